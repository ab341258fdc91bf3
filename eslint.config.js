import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Workflow code is replayed by Temporal and must stay deterministic: no Node built-ins and no
// library that performs I/O may be imported there. Activities are referenced with
// `import type` only.
const forbiddenInWorkflows = [
  'node:*',
  ...[
    'assert',
    'buffer',
    'child_process',
    'crypto',
    'dns',
    'events',
    'fs',
    'fs/promises',
    'http',
    'https',
    'net',
    'os',
    'path',
    'process',
    'stream',
    'timers',
    'tls',
    'url',
    'util',
    'worker_threads',
    'zlib',
  ],
  '@prisma/*',
  '**/generated/prisma/**',
  'pg',
  '@electric-sql/*',
  'pglite-prisma-adapter',
  '@octokit/*',
  'isomorphic-git',
  'isomorphic-git/*',
  'express',
  'pino',
  'canvas',
  'vega',
  'vega-lite',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  '**/db/**',
  '**/api/**',
  '**/worker/**',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', 'data/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbiddenInWorkflows,
              message: 'Workflow code must be deterministic: no I/O libraries or Node built-ins.',
            },
          ],
          paths: [],
        },
      ],
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
  {
    // The product reads its environment in one place (domain/config.ts): settings, and `host` for
    // child processes. Tests and scripts may set up environments of their own.
    files: [
      'activities/**/*.ts',
      'adapters/**/*.ts',
      'api/**/*.ts',
      'db/**/*.ts',
      'domain/**/*.ts',
      'runtime/**/*.ts',
      'worker/**/*.ts',
      'workflows/**/*.ts',
      'service/**/*.ts',
    ],
    ignores: ['domain/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read settings from the Config (domain/config.ts loads them), and the host environment from config.host.',
        },
      ],
    },
  },
  {
    // Activities may only be referenced by type from workflows.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities/**'],
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
          ],
        },
      ],
    },
  },
);

// workflow code is replayed and must stay deterministic; the lint config forbids
// I/O libraries and Node built-ins there, and allows activities only as `import type`.
import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function lintAs(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('workflow determinism lint', () => {
  test.each([
    ["import fs from 'node:fs';"],
    ["import { readFile } from 'fs/promises';"],
    ["import crypto from 'crypto';"],
    ["import { PrismaClient } from '../generated/prisma/client.js';"],
    ["import { Octokit } from '@octokit/rest';"],
    ["import git from 'isomorphic-git';"],
    ["import express from 'express';"],
    ["import { Client } from '@temporalio/client';"],
    ["import { createActivities } from '../activities/index.js';"],
  ])('rejects `%s` in workflows/', async (line) => {
    const rules = await lintAs('workflows/example.ts', `${line}\nexport const x = 1;\n`);
    expect(rules.some((r) => r.endsWith('no-restricted-imports'))).toBe(true);
  });

  test('allows the workflow SDK, shared contracts and activity types', async () => {
    const code = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { Activities } from '../activities/index.js';",
      "import { SEARCH_ATTRIBUTES } from '../domain/temporal-contracts.js';",
      'export const a = proxyActivities<Activities>({ startToCloseTimeout: 1000 });',
      'export const b = SEARCH_ATTRIBUTES;',
      '',
    ].join('\n');
    expect(await lintAs('workflows/example.ts', code)).toEqual([]);
  });

  test('the same imports are fine outside workflows/', async () => {
    expect(await lintAs('activities/example.ts', "import fs from 'node:fs';\nexport const x = fs;\n")).toEqual([]);
  });
});

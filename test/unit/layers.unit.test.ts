// The layering of docs/development.md "Layout", checked on the source: which folder may import
// which, and that the API process (api/main.ts) never loads @temporalio/worker — its native
// bridge and bundler belong to worker processes only.
import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What each source folder may import (besides itself and libraries). */
const MAY_IMPORT: Record<string, string[]> = {
  domain: [],
  runtime: ['domain'],
  adapters: ['domain', 'runtime'],
  db: ['domain', 'runtime', 'generated'],
  workflows: ['domain', 'activities'], // activities by `import type` only (the workflow lint enforces it)
  activities: ['domain', 'adapters', 'db', 'runtime'],
  api: ['domain', 'adapters', 'db', 'runtime'],
  worker: ['activities', 'domain', 'adapters', 'db', 'runtime'],
  service: ['api', 'worker', 'activities', 'domain', 'adapters', 'db', 'runtime'],
  sandbox: [],
  // Tools, the build and the benchmark: the product and the sandbox, never the tests.
  scripts: [
    'activities',
    'adapters',
    'api',
    'db',
    'domain',
    'runtime',
    'service',
    'workflows',
    'worker',
    'sandbox',
    'generated',
  ],
};

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Static and dynamic imports and re-exports of a module. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?\bfrom\s+'([^']+)'/gm))
    found.push({ specifier: m[3] as string, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push({ specifier: m[1] as string, typeOnly: false });
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g))
    found.push({ specifier: m[1] as string, typeOnly: false });
  return found;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(ROOT, folder, f));
}

const folderOf = (file: string) => path.relative(ROOT, file).split(path.sep)[0] as string;
const resolveRelative = (from: string, specifier: string) =>
  path.resolve(path.dirname(from), specifier.replace(/\.js$/, '.ts'));

describe('layers', () => {
  test.each(Object.keys(MAY_IMPORT))('%s/ imports only what docs/development.md allows', (folder) => {
    const allowed = new Set([folder, ...(MAY_IMPORT[folder] ?? [])]);
    const violations: string[] = [];
    for (const file of sourceFiles(folder)) {
      for (const { specifier } of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = folderOf(resolveRelative(file, specifier));
        if (!allowed.has(target)) violations.push(`${path.relative(ROOT, file)} → ${specifier}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('test/support, shared by every tier, imports no test of any tier', () => {
    const violations: string[] = [];
    for (const file of sourceFiles('test/support')) {
      for (const { specifier } of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = path.relative(ROOT, resolveRelative(file, specifier));
        if (/^test\/(unit|int|e2e)\//.test(target)) violations.push(`${path.relative(ROOT, file)} → ${specifier}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('the API process never loads @temporalio/worker, activities/ or worker/', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const stack = [path.join(ROOT, 'api/main.ts')];
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const { specifier, typeOnly } of importsOf(file)) {
        if (typeOnly) continue; // erased at compile time
        if (specifier.startsWith('.')) stack.push(resolveRelative(file, specifier));
        else packages.add(specifier);
      }
    }
    expect(seen.size).toBeGreaterThan(20); // the walk did follow the graph
    expect([...packages].filter((p) => p.startsWith('@temporalio/'))).not.toContain('@temporalio/worker');
    expect([...packages]).toContain('@temporalio/client');
    expect([...seen].map(folderOf).filter((f) => f === 'worker' || f === 'activities')).toEqual([]);
  });
});

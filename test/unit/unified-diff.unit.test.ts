// The preview's unified diff against native git: the same text as `git diff --no-index` for the
// changes a params file gets, and for arbitrary edits a patch `git apply` accepts and that turns
// the old text into the new one exactly.
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unifiedDiff } from '../../domain/unified-diff.js';

const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

/** `git diff --no-index` of the two texts as a/{file} → b/{file}, without its `diff --git` and `index` lines. */
async function gitDiff(file: string, before: string, after: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'udiff-'));
  try {
    await run('mkdir', ['-p', path.join(dir, 'a', path.dirname(file)), path.join(dir, 'b', path.dirname(file))]);
    await writeFile(path.join(dir, 'a', file), before);
    await writeFile(path.join(dir, 'b', file), after);
    const out = await run(
      'git',
      [
        'diff',
        '--no-index',
        '--no-prefix',
        '--no-color',
        '--no-indent-heuristic',
        '--diff-algorithm=myers',
        `a/${file}`,
        `b/${file}`,
      ],
      { cwd: dir, env: GIT_ENV },
    ).catch((error: { code?: number; stdout?: string }) => {
      if (error.code === 1) return { stdout: error.stdout ?? '' };
      throw error;
    });
    return out.stdout
      .split('\n')
      .filter((l) => !l.startsWith('diff --git') && !l.startsWith('index '))
      .join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Applies `patch` to `before` with `git apply` and returns the result. */
async function gitApply(file: string, before: string, patch: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'uapply-'));
  try {
    await run('git', ['init', '-q'], { cwd: dir, env: GIT_ENV });
    await run('mkdir', ['-p', path.join(dir, path.dirname(file))]);
    await writeFile(path.join(dir, file), before);
    await writeFile(path.join(dir, 'change.patch'), patch);
    await run('git', ['apply', '--whitespace=nowarn', 'change.patch'], { cwd: dir, env: GIT_ENV });
    return await readFile(path.join(dir, file), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const FILE = 'clusters/prod/search.params.json';
const params = (n: number, change: (i: number) => string | undefined = () => undefined) =>
  `{\n${Array.from({ length: n }, (_, i) => `  "key.${i}": ${change(i) ?? i}`).join(',\n')}\n}\n`;

describe('unifiedDiff', () => {
  test.each([
    ['one value', params(20), params(20, (i) => (i === 10 ? '10.5' : undefined))],
    ['two values far apart: two hunks', params(40), params(40, (i) => (i === 3 || i === 30 ? '"x"' : undefined))],
    ['two values six lines apart: one hunk', params(40), params(40, (i) => (i === 10 || i === 17 ? '1e3' : undefined))],
    [
      'two values seven lines apart: two hunks',
      params(40),
      params(40, (i) => (i === 10 || i === 18 ? '2' : undefined)),
    ],
    ['the first and the last line', params(5), params(5, (i) => (i === 0 || i === 4 ? 'null' : undefined))],
    ['no newline at the end', '{\n  "a": 1,\n  "b": 2\n}', '{\n  "a": 1,\n  "b": 3\n}'],
    ['a newline added at the end', '{\n  "a": 1\n}', '{\n  "a": 1\n}\n'],
    ['from an empty file', '', '{\n  "a": 1\n}\n'],
  ])('%s: the same text as git diff', async (_name, before, after) => {
    expect(unifiedDiff(FILE, before, after)).toBe(await gitDiff(FILE, before, after));
  });

  test('equal texts: no diff', () => {
    expect(unifiedDiff(FILE, params(3), params(3))).toBe('');
  });

  test('arbitrary edits: git apply turns the old text into the new one with the patch', async () => {
    // A seeded generator: the same cases every run.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 25; round++) {
      const lines = Array.from({ length: 5 + Math.floor(random() * 60) }, (_, i) => `line ${i % 7}`);
      const edited = [...lines];
      for (let e = 0; e < 1 + Math.floor(random() * 8); e++) {
        const at = Math.floor(random() * (edited.length + 1));
        const what = random();
        if (what < 0.33) edited.splice(at, 1);
        else if (what < 0.66) edited.splice(at, 0, `new ${round}.${e}`);
        else edited[at] = `changed ${round}.${e}`;
      }
      const before = `${lines.join('\n')}\n`;
      const after = `${edited.filter((l) => l !== undefined).join('\n')}${random() < 0.2 ? '' : '\n'}`;
      const patch = unifiedDiff(FILE, before, after);
      if (before === after) continue;
      expect(await gitApply(FILE, before, patch)).toBe(after);
    }
  }, 60_000);
});

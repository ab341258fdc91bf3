// A new embedded database starts from a copy of the install's freshly initialised PGlite
// directory (db/database.ts initPgliteDir): the same database initdb would make, without its ≈ 3 s.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initPgliteDir, openDatabase, pgliteTemplateDir } from '../../db/database.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'relyloop-pglite-template-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function migratedTables(dir: string): Promise<string[]> {
  const db = await openDatabase({ pgliteDir: dir });
  try {
    const rows = await db.sql.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    return rows.map((r) => r.table_name);
  } finally {
    await db.close();
  }
}

describe('PGlite template', () => {
  test('lives in node_modules/.cache, named by the PGlite version', () => {
    expect(pgliteTemplateDir()).toMatch(/node_modules\/\.cache\/relyloop-pr\/pglite-\d+\.\d+\.\d+[^/]*-initdb$/);
  });

  test('the first new database runs initdb and publishes the template; the next is a copy of it, migrated alike', async () => {
    const template = path.join(root, 'template');
    expect(await initPgliteDir(path.join(root, 'a'), template)).toBe('initdb');
    expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
    // No staging directory left beside it.
    expect((await readdir(root)).sort()).toEqual(['a', 'template']);
    expect(await initPgliteDir(path.join(root, 'b'), template)).toBe('template');
    const [a, b] = [await migratedTables(path.join(root, 'a')), await migratedTables(path.join(root, 'b'))];
    expect(a).toContain('proposals');
    expect(b).toEqual(a);
    // The template itself was never opened: a copy of it is still a fresh initdb.
    expect(existsSync(path.join(template, 'postmaster.pid'))).toBe(false);
  }, 120_000);

  test('a directory that is already there is not copied into: initdb, as before', async () => {
    const template = path.join(root, 'template');
    expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
    const existing = path.join(root, 'existing');
    await mkdir(existing);
    await writeFile(path.join(existing, 'keep.txt'), 'mine');
    expect(await initPgliteDir(existing, template)).toBe('initdb');
    expect(existsSync(path.join(existing, 'keep.txt'))).toBe(true);
  }, 120_000);
});

// The fixes scripts/patch-dependencies.mjs makes to installed dependencies: each is in place, and
// each still does what the original did — checked against native git, not against itself.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { assertGit } from '../../sandbox/git-cli.js';
// @ts-expect-error a plain .mjs script, no types
import { patchDependencies } from '../../scripts/patch-dependencies.mjs';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'patched-deps-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('patched dependencies', () => {
  test('every patch is applied to the installed files (npm ci runs the script; so does npm run setup)', () => {
    const report = patchDependencies({ write: false }) as { patch: string; file: string; state: string }[];
    expect(report.length).toBeGreaterThan(0);
    expect(report.filter((r) => r.state !== 'applied')).toEqual([]);
  });

  test("isomorphic-git's pack index is byte for byte `git index-pack`'s, fan-out included", async () => {
    // A pack of a few thousand objects whose ids start with every byte (the fan-out's 256 slots).
    const home = path.join(root, 'home');
    const work = path.join(root, 'work');
    await mkdir(work, { recursive: true });
    const opts = { cwd: work, home };
    await assertGit(['init', '--quiet', '-b', 'main'], opts);
    for (let d = 0; d < 30; d++) {
      await mkdir(path.join(work, `d${d}`), { recursive: true });
      for (let f = 0; f < 60; f++) await writeFile(path.join(work, `d${d}`, `f${f}.json`), `{"d": ${d}, "f": ${f}}\n`);
    }
    await assertGit(['add', '-A'], opts);
    await assertGit(['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'x'], opts);
    const packName = await assertGit(['pack-objects', '--revs', path.join(root, 'pack')], { ...opts, input: 'HEAD\n' });
    expect(packName).toMatch(/^[0-9a-f]{40}$/);
    const pack = path.join(root, `pack-${packName}.pack`);

    const nativeIdx = path.join(root, 'native.idx');
    await assertGit(['index-pack', '-o', nativeIdx, pack], opts);
    const isoGitdir = path.join(root, 'iso');
    await mkdir(path.join(isoGitdir, 'objects', 'pack'), { recursive: true });
    await copyFile(pack, path.join(isoGitdir, 'objects', 'pack', path.basename(pack)));
    await git.indexPack({ fs, dir: isoGitdir, gitdir: isoGitdir, filepath: `objects/pack/${path.basename(pack)}` });
    const isoIdx = await readFile(
      path.join(isoGitdir, 'objects', 'pack', path.basename(pack).replace(/\.pack$/, '.idx')),
    );
    const native = await readFile(nativeIdx);
    const objects = native.readUInt32BE(8 + 255 * 4);
    expect(objects).toBeGreaterThan(1800);
    expect(isoIdx.equals(native)).toBe(true);
  });
});

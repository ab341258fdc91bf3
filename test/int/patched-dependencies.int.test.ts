// The fixes scripts/patch-dependencies.mjs makes to installed dependencies: each is in place, and
// each still does what the original did — checked against native git, not against itself.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BottleneckBuild from 'bottleneck';
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

  /** A commit of 1,800 small similar files (ids starting with every byte), packed by native git. */
  async function nativePack(
    name: string,
    packArgs: string[],
  ): Promise<{ pack: string; opts: { cwd: string; home: string } }> {
    const home = path.join(root, 'home');
    const work = path.join(root, `work-${name}`);
    await mkdir(work, { recursive: true });
    const opts = { cwd: work, home };
    await assertGit(['init', '--quiet', '-b', 'main'], opts);
    for (let d = 0; d < 30; d++) {
      await mkdir(path.join(work, `d${d}`), { recursive: true });
      for (let f = 0; f < 60; f++)
        await writeFile(
          path.join(work, `d${d}`, `f${f}.json`),
          `{"d": ${d}, "f": ${f}, "pad": "${'x'.repeat(200)}"}\n`,
        );
    }
    await assertGit(['add', '-A'], opts);
    await assertGit(['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'x'], opts);
    const packName = await assertGit(['pack-objects', '--revs', ...packArgs, path.join(root, `pack-${name}`)], {
      ...opts,
      input: 'HEAD\n',
    });
    expect(packName).toMatch(/^[0-9a-f]{40}$/);
    return { pack: path.join(root, `pack-${name}-${packName}.pack`), opts };
  }

  /** isomorphic-git's indexPack (GitPackIndex.fromPack, as a fetch runs it) on a copy of `pack`. */
  async function isoIndex(pack: string, name: string): Promise<Buffer> {
    const gitdir = path.join(root, `iso-${name}`);
    await mkdir(path.join(gitdir, 'objects', 'pack'), { recursive: true });
    const file = path.join(gitdir, 'objects', 'pack', path.basename(pack));
    await copyFile(pack, file);
    await git.indexPack({ fs, dir: gitdir, gitdir, filepath: `objects/pack/${path.basename(pack)}` });
    return readFile(file.replace(/\.pack$/, '.idx'));
  }

  test.each([
    ['ref-delta', []],
    ['ofs-delta', ['--delta-base-offset']],
  ])("isomorphic-git's pack index is byte for byte `git index-pack`'s, fan-out included (%s)", async (name, args) => {
    // Deltas of both kinds: the base named by id (git's default) and by offset (what servers send).
    const { pack, opts } = await nativePack(name, args);
    const verify = await assertGit(['verify-pack', '-v', pack.replace(/\.pack$/, '.idx')], opts);
    expect(verify).toMatch(/chain length = 1: \d+ objects?/);

    const nativeIdx = path.join(root, `native-${name}.idx`);
    await assertGit(['index-pack', '-o', nativeIdx, pack], opts);
    const native = await readFile(nativeIdx);
    const objects = native.readUInt32BE(8 + 255 * 4);
    expect(objects).toBeGreaterThan(1800);
    expect((await isoIndex(pack, name)).equals(native)).toBe(true);
  });

  test('a pack cut short or with a damaged object is refused, and no index is written', async () => {
    const { pack } = await nativePack('damaged', ['--delta-base-offset']);
    const bytes = await readFile(pack);
    const cut = path.join(root, 'cut', path.basename(pack));
    await mkdir(path.dirname(cut), { recursive: true });
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(isoIndex(cut, 'cut')).rejects.toThrow();
    expect(
      fs.existsSync(path.join(root, 'iso-cut', 'objects', 'pack', path.basename(pack).replace(/\.pack$/, '.idx'))),
    ).toBe(false);

    const damaged = Buffer.from(bytes);
    damaged.fill(0xff, 200, 260); // inside the first objects' deflated bytes
    const bad = path.join(root, 'bad', path.basename(pack));
    await mkdir(path.dirname(bad), { recursive: true });
    await writeFile(bad, damaged);
    await expect(isoIndex(bad, 'bad')).rejects.toThrow();
    expect(
      fs.existsSync(path.join(root, 'iso-bad', 'objects', 'pack', path.basename(pack).replace(/\.pack$/, '.idx'))),
    ).toBe(false);
  });
});

describe('patched bottleneck (under the Octokit throttling plugin)', () => {
  // The full build (our own groups) and the light build (the plugin's).
  const builds = [
    ['bottleneck', async () => (await import('bottleneck')).default],
    // @ts-expect-error the light build has no declarations of its own; it has the full build's API
    ['bottleneck/light.js', async () => (await import('bottleneck/light.js')).default as typeof BottleneckBuild],
  ] as const;

  /** Runs `fn` counting the timers it sets with no delay (Node clamps each to 1 ms) and with one. */
  async function timersOf<T>(fn: () => Promise<T>): Promise<{ value: T; zero: number; delayed: number }> {
    const real = globalThis.setTimeout;
    const count = { zero: 0, delayed: 0 };
    globalThis.setTimeout = ((cb: () => void, ms?: number) => {
      count[ms ? 'delayed' : 'zero'] += 1;
      return real(cb, ms);
    }) as typeof setTimeout;
    try {
      return { value: await fn(), ...count };
    } finally {
      globalThis.setTimeout = real;
    }
  }

  test.each(builds)('%s: a job due now is started without a timer', async (_name, load) => {
    const Bottleneck = await load();
    const limiter = new Bottleneck({ maxConcurrent: 1, minTime: 0 });
    const group = new Bottleneck.Group({ maxConcurrent: 10, minTime: 0 });
    const { value, zero } = await timersOf(async () => [
      await limiter.schedule(async () => 'limiter'),
      await group.key('token').schedule(async () => 'group'),
    ]);
    expect(value).toEqual(['limiter', 'group']);
    expect(zero).toBe(0);
  });

  test.each(builds)(
    '%s: one at a time, and a job with a wait (minTime) still waits on a timer',
    async (_name, load) => {
      const Bottleneck = await load();
      const limiter = new Bottleneck({ maxConcurrent: 1, minTime: 30 });
      const events: string[] = [];
      const job = (n: number) => async () => {
        events.push(`start ${n}`);
        await new Promise((r) => setImmediate(r));
        events.push(`end ${n}`);
      };
      const { delayed } = await timersOf(() => Promise.all([1, 2, 3].map((n) => limiter.schedule(job(n)))));
      expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
      expect(delayed).toBeGreaterThanOrEqual(2);
    },
  );

  test.each(builds)('%s: stop drops the jobs not yet run, due now or later', async (_name, load) => {
    const Bottleneck = await load();
    const limiter = new Bottleneck({ maxConcurrent: 2, minTime: 0 });
    let ran = 0;
    const results = [1, 2, 3].map(() =>
      limiter.schedule(async () => {
        ran += 1;
      }),
    );
    await limiter.stop({ dropWaitingJobs: true });
    const settled = await Promise.allSettled(results);
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(settled.filter((s) => s.status === 'fulfilled').length);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
  });
});

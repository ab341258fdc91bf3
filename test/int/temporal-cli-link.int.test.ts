// `temporal` by name: setup links the CLI it installed into a writable directory on
// PATH, so the commands README.md and docs/operations.md print work as written; where it cannot,
// it says which path to run instead.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findTemporalCli } from '../../runtime/temporal-cli.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/link-temporal-cli.sh', import.meta.url));
let home: string;
let cli: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'temporal-link-'));
  cli = await realpath(findTemporalCli(process.env));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const link = (env: Record<string, string>) => run('/bin/bash', [SCRIPT, cli], { env: { HOME: home, ...env } });

test('links the CLI into ~/.local/bin when that is on PATH, and `temporal` then runs by name', async () => {
  const bin = path.join(home, '.local', 'bin');
  await mkdir(bin, { recursive: true });
  const PATH = `${bin}:/usr/bin:/bin`;
  const { stdout } = await link({ PATH });
  expect(stdout.trim()).toBe(path.join(bin, 'temporal'));
  expect(await readlink(path.join(bin, 'temporal'))).toBe(cli);
  const version = await run('temporal', ['--version'], { env: { PATH, HOME: home } });
  expect(version.stdout).toMatch(/temporal version/);
  // A second run finds it on PATH and leaves it alone.
  expect((await link({ PATH })).stdout.trim()).toBe(path.join(bin, 'temporal'));
});

test('without a writable directory on PATH it prints the path to run, and why', async () => {
  const { stdout, stderr } = await link({ PATH: '/usr/bin:/bin', HOME: path.join(home, 'nowhere') });
  expect(stdout.trim()).toBe(cli);
  expect(stderr).toContain(`run the CLI as ${cli}`);
});

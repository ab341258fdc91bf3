// The sandbox's git smart HTTP, checked with the real git CLI and with isomorphic-git.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import * as fs from 'node:fs';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';

const run = promisify(execFile);
const TOKEN = 'ghp_sandboxGitToken0123456789abcdefghijklmn';
let sandbox: GitHubSandbox;
let work: string;

const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: work,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
});
const authHeader = (token: string): string =>
  `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
async function gitCli(args: string[], cwd = work): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: env(), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  work = await mkdtemp(path.join(tmpdir(), 'gh-sandbox-git-test-'));
  await sandbox.createRepo({
    owner: 'acme',
    repo: 'configs',
    token: TOKEN,
    files: {
      'README.md': '# configs\n',
      'clusters/prod/params.json': '{\n  "a": 1\n}\n',
      'clusters/link.json': { symlink: 'prod/params.json' },
      'vendor/lib': { submodule: 'a'.repeat(40) },
      'bin/run.sh': { executable: '#!/bin/sh\necho hi\n' },
      'blob.bin': Buffer.from([0, 1, 2, 255]),
    },
  });
});
afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

describe('git smart HTTP with the git CLI', () => {
  test('clones over protocol v2 with the token and keeps file modes', async () => {
    await gitCli(['-c', authHeader(TOKEN), 'clone', '--quiet', sandbox.gitUrl('acme', 'configs'), 'clone1']);
    const tree = await gitCli(['ls-tree', '-r', 'HEAD'], path.join(work, 'clone1'));
    expect(tree).toMatch(/^120000 blob \w+\tclusters\/link\.json$/m);
    expect(tree).toMatch(new RegExp(`^160000 commit ${'a'.repeat(40)}\\tvendor/lib$`, 'm'));
    expect(tree).toMatch(/^100755 blob \w+\tbin\/run\.sh$/m);
    expect(tree).toMatch(/^100644 blob \w+\t\.gitmodules$/m);
    expect(await readlink(path.join(work, 'clone1/clusters/link.json'))).toBe('prod/params.json');
    expect(await readFile(path.join(work, 'clone1/blob.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
    const gitRequests = sandbox.requests.filter((r) => r.kind === 'git' && r.status === 200);
    expect(gitRequests.some((r) => r.headers['git-protocol'] === 'version=2')).toBe(true);
  });

  test.each([
    ['a wrong token', authHeader('ghp_wrongToken0123456789abcdefghijklmnopqr')],
    ['no credentials', 'http.extraHeader=X-Nothing: 1'],
  ])('refuses a clone with %s (401 with a Basic challenge)', async (_label, header) => {
    const before = sandbox.requests.length;
    await expect(
      gitCli(['-c', header, 'clone', '--quiet', sandbox.gitUrl('acme', 'configs'), `denied-${before}`]),
    ).rejects.toThrow(/Authentication failed|could not read Username/);
    const denied = sandbox.requests.slice(before);
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((r) => r.status === 401)).toBe(true);
  });

  test('accepts a pushed branch and a deleted one; the bare repo shows both', async () => {
    const dir = path.join(work, 'clone-push');
    await gitCli(['-c', authHeader(TOKEN), 'clone', '--quiet', sandbox.gitUrl('acme', 'configs'), dir]);
    await gitCli(
      ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'x'],
      dir,
    );
    await gitCli(['-c', authHeader(TOKEN), 'push', '--quiet', 'origin', 'HEAD:refs/heads/feature/one'], dir);
    const local = await gitCli(['rev-parse', 'HEAD'], dir);
    expect(await gitCli(['rev-parse', 'refs/heads/feature/one'], sandbox.bareDir('acme', 'configs'))).toBe(local);
    await gitCli(['-c', authHeader(TOKEN), 'push', '--quiet', 'origin', ':refs/heads/feature/one'], dir);
    await expect(
      gitCli(['rev-parse', '--verify', '--quiet', 'refs/heads/feature/one'], sandbox.bareDir('acme', 'configs')),
    ).rejects.toThrow();
  });

  test('understands a gzip-encoded request body', async () => {
    const pkt = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const request = `${pkt('command=ls-refs\n')}0001${pkt('ref-prefix refs/heads/\n')}0000`;
    const response = await fetch(`${sandbox.gitUrl('acme', 'configs')}/git-upload-pack`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
        'git-protocol': 'version=2',
      },
      body: gzipSync(request),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('refs/heads/main');
  });
});

describe('git smart HTTP with isomorphic-git', () => {
  test('clones shallow single-branch and pushes a new branch', async () => {
    const dir = path.join(work, 'iso');
    const onAuth = () => ({ username: 'x-access-token', password: TOKEN });
    await git.clone({
      fs,
      http,
      dir,
      url: sandbox.gitUrl('acme', 'configs'),
      singleBranch: true,
      depth: 1,
      noCheckout: true,
      onAuth,
    });
    const head = await git.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' });
    const { commit } = await git.readCommit({ fs, dir, oid: head });
    const oid = await git.writeCommit({ fs, dir, commit: { ...commit, parent: [head], message: 'iso change\n' } });
    await git.writeRef({ fs, dir, ref: 'refs/heads/iso-branch', value: oid });
    const result = await git.push({ fs, http, dir, ref: 'iso-branch', remoteRef: 'refs/heads/iso-branch', onAuth });
    expect(result.ok).toBe(true);
    expect(await gitCli(['rev-parse', 'refs/heads/iso-branch'], sandbox.bareDir('acme', 'configs'))).toBe(oid);
  });

  test('a wrong token fails with HTTP 401', async () => {
    const onAuth = () => ({ username: 'x-access-token', password: 'wrong-token-value' });
    await expect(git.getRemoteInfo2({ http, url: sandbox.gitUrl('acme', 'configs'), onAuth })).rejects.toMatchObject({
      code: 'HttpError',
      data: { statusCode: 401 },
    });
  });
});

describe('large generated repository', () => {
  test('20,000 files are imported and clone with the CLI', async () => {
    const { headSha } = await sandbox.createLargeRepo({
      owner: 'acme',
      repo: 'big',
      token: TOKEN,
      fileCount: 20_000,
      extraFiles: { 'clusters/prod/params.json': '{"a":1}\n' },
    });
    const count = await gitCli(['ls-tree', '-r', '--name-only', headSha], sandbox.bareDir('acme', 'big'));
    expect(count.split('\n')).toHaveLength(20_001);
    await gitCli([
      '-c',
      authHeader(TOKEN),
      'clone',
      '--quiet',
      '--no-checkout',
      '--depth=1',
      sandbox.gitUrl('acme', 'big'),
      'big',
    ]);
    expect(await gitCli(['rev-parse', 'HEAD'], path.join(work, 'big'))).toBe(headSha);
  });
});

// The git half of the forge port on a real Gitea: the service's own repo cache
// (isomorphic-git over smart HTTP, adapters/git/repo-cache.ts) clones, finds branches, commits
// and pushes create-only against Gitea exactly as against GitHub, with the token in the same
// basic-auth form (`x-access-token` as user: Gitea takes a token as the password whatever the
// user name). What reached the remote is checked with native git.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGitHttpClient } from '../../adapters/git/git-http-client.js';
import { createGitRepoCache, tokenAuth, type GitRepoCache, type RemoteRef } from '../../adapters/git/repo-cache.js';
import { AppError } from '../../domain/errors.js';
import { Redactor } from '../../domain/redact.js';
import { runGit } from '../../sandbox/git-cli.js';
import { startGitea, type GiteaServer } from '../support/gitea.js';

let gitea: GiteaServer;
let root: string;
let cache: GitRepoCache;
let target: RemoteRef;

beforeAll(async () => {
  gitea = await startGitea();
  root = await mkdtemp(path.join(os.tmpdir(), 'relyloop-gitea-cache-'));
  const redactor = new Redactor();
  redactor.register(gitea.token);
  cache = createGitRepoCache({
    cacheDir: path.join(root, 'cache'),
    redactor,
    author: { name: 'relyloop-bot', email: 'bot@example.invalid' },
    http: createGitHttpClient({ idleTimeoutMs: 30_000 }),
  });
  const { cloneUrl } = await gitea.createRepo('configs');
  const seeded = await gitea.request('POST', `/repos/${gitea.user}/configs/contents/clusters/prod/search.params.json`, {
    content: Buffer.from('{\n  "bm25.k1": 1.2\n}\n').toString('base64'),
    message: 'params',
    branch: 'main',
  });
  expect(seeded.status).toBe(201);
  target = { configRepoId: randomUUID(), url: cloneUrl, baseBranch: 'main', onAuth: tokenAuth(gitea.token) };
}, 120_000);
afterAll(async () => {
  await gitea?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

test('sync, read the params file, commit and push a new branch; a second push adopts it; native git sees one commit', async () => {
  const { baseCommit, cloned } = await cache.sync(target);
  expect(cloned).toBe(true);
  const main = await gitea.request('GET', `/repos/${gitea.user}/configs/branches/main`);
  expect(baseCommit).toBe(main.body.commit.id);
  const file = await cache.readParamsFile(target, {
    commit: baseCommit,
    configPath: 'clusters/prod',
    templateName: 'search',
  });
  expect(file.text).toContain('"bm25.k1": 1.2');

  const commit = await cache.createCommit(target, {
    baseCommit,
    files: [{ path: file.path, content: new TextEncoder().encode('{\n  "bm25.k1": 1.4\n}\n') }],
    message: 'Tune bm25.k1\n\nRelyLoop-Proposal: p1',
  });
  expect(await cache.pushBranch(target, { branch: 'relyloop/study-s1', commit })).toBe('pushed');
  // The same push again (a retried attempt): the branch already holds our commit.
  expect(await cache.pushBranch(target, { branch: 'relyloop/study-s1', commit })).toBe('already-on-remote');
  expect((await cache.readRemoteTip(target, 'relyloop/study-s1'))?.oid).toBe(commit);
  expect((await cache.listRemoteBranches(target, { prefix: 'relyloop/' })).map((b) => b.name)).toEqual([
    'relyloop/study-s1',
  ]);

  // Native git, from outside: one commit on top of main, changing exactly the params file.
  const home = path.join(root, 'home');
  const ls = await runGit(['ls-remote', gitea.authedCloneUrl('configs'), 'refs/heads/relyloop/study-s1'], { home });
  expect(ls.stdout.toString('utf8')).toContain(commit);
  const check = path.join(root, 'check');
  expect((await runGit(['clone', '--quiet', gitea.authedCloneUrl('configs'), check], { home })).code).toBe(0);
  expect((await runGit(['-C', check, 'fetch', '--quiet', 'origin', 'relyloop/study-s1'], { home })).code).toBe(0);
  const changed = await runGit(['-C', check, 'diff', '--name-only', `origin/main..${commit}`], { home });
  expect(changed.stdout.toString('utf8').trim()).toBe('clusters/prod/search.params.json');
  const count = await runGit(['-C', check, 'rev-list', '--count', `origin/main..${commit}`], { home });
  expect(count.stdout.toString('utf8').trim()).toBe('1');
}, 60_000);

test('a branch someone else pushed is never overwritten (create-only)', async () => {
  const { baseCommit } = await cache.sync(target);
  const ours = await cache.createCommit(target, {
    baseCommit,
    files: [{ path: 'clusters/prod/search.params.json', content: new TextEncoder().encode('{}\n') }],
    message: 'ours',
  });
  const made = await gitea.request('POST', `/repos/${gitea.user}/configs/branches`, {
    new_branch_name: 'relyloop/study-taken',
    old_branch_name: 'main',
  });
  expect(made.status).toBe(201);
  const error = await cache
    .pushBranch(target, { branch: 'relyloop/study-taken', commit: ours })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'BRANCH_EXISTS' });
  expect((await cache.readRemoteTip(target, 'relyloop/study-taken'))?.oid).toBe(baseCommit);
});

test("a branch a Gitea protection rule covers: BRANCH_PROTECTED with Gitea's explanation, nothing created", async () => {
  const rule = await gitea.request('POST', `/repos/${gitea.user}/configs/branch_protections`, {
    rule_name: 'relyloop/locked-*',
    enable_push: false,
  });
  expect(rule.status).toBe(201);
  const { baseCommit } = await cache.sync(target);
  const commit = await cache.createCommit(target, {
    baseCommit,
    files: [{ path: 'clusters/prod/search.params.json', content: new TextEncoder().encode('{}\n') }],
    message: 'locked',
  });
  const error = await cache.pushBranch(target, { branch: 'relyloop/locked-1', commit }).catch((e: unknown) => e);
  expect(error).toMatchObject({
    code: 'BRANCH_PROTECTED',
    message: expect.stringMatching(
      /^the forge declined the push of relyloop\/locked-1 .*Not allowed to push to protected branch relyloop\/locked-1/,
    ),
  });
  expect(await cache.readRemoteTip(target, 'relyloop/locked-1')).toBeUndefined();
});

test('a token Gitea does not know is GITHUB_AUTH_FAILED, without the token in the message', async () => {
  const wrong = 'f'.repeat(40);
  const redactor = new Redactor();
  redactor.register(wrong);
  const other = createGitRepoCache({
    cacheDir: path.join(root, 'cache-wrong'),
    redactor,
    author: { name: 'x', email: 'x@example.invalid' },
  });
  const error = await other
    .sync({ ...target, configRepoId: randomUUID(), onAuth: tokenAuth(wrong) })
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'GITHUB_AUTH_FAILED' });
  expect((error as Error).message).not.toContain(wrong);
});

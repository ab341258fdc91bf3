// GitRepoCache against the GitHub sandbox (real git http-backend), checked with the git CLI on
// the sandbox's bare repo.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGitHttpClient } from '../../adapters/git/git-http-client.js';
import { createGitRepoCache, tokenAuth, type GitRepoCache, type RemoteRef } from '../../adapters/git/repo-cache.js';
import { tryRenderChart } from '../../activities/chart/render-chart.js';
import { chartFilePath, createBranchName } from '../../domain/branch-names.js';
import { createCommitMessage } from '../../domain/commit-message.js';
import { AppError } from '../../domain/errors.js';
import { tryApplyConfigDiff } from '../../domain/params-diff.js';
import { Redactor, base64Forms, REDACTED } from '../../domain/redact.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { assertGit, runGit } from '../../sandbox/git-cli.js';
import { leakFormsOf, scanFiles, scanGitDir } from '../support/leak-scan.js';

const TOKEN = `ghp_${'RepoCacheToken'.padEnd(36, 'x')}`;
const AUTHOR = { name: 'relyloop-bot', email: 'relyloop-bot@example.com' };
const PARAMS = '{\n  "field_boosts.title": 2.0,\n  "bm25.k1": 1.2,\n  "fuzziness": "AUTO"\n}\n';
const FILES = {
  'README.md': '# configs\n',
  'clusters/prod/products.params.json': PARAMS,
  'clusters/prod/articles.params.json': '{\n    "bm25.k1": 1.0\n}\n',
  'clusters/sym/products.params.json': { symlink: '../prod/products.params.json' },
  'clusters/sub/products.params.json': { submodule: 'b'.repeat(40) },
  'clusters/dir/products.params.json/inner.json': '{}\n',
  'clusters/linkdir': { symlink: 'prod' },
  'clusters/bad/products.params.json': '{"bm25.k1": ',
  'clusters/arr/products.params.json': '[1, 2]\n',
  'clusters/exec/products.params.json': { executable: '{\n  "bm25.k1": 1.2\n}\n' },
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`clusters/other/t${i}.params.json`, `{"i": ${i}}\n`])),
};

let sandbox: GitHubSandbox;
let root: string;
let cacheDir: string;
let cache: GitRepoCache;
/** A remote reached with a token the test knows (to check it never leaks). */
type Target = RemoteRef & { token: string };
let target: Target;
let headSha: string;
const home = () => path.join(root, 'home');
const bareGit = (args: string[]) => assertGit(args, { cwd: sandbox.bareDir('acme', 'configs'), home: home() });

function newTarget(
  overrides: { token?: string; url?: string; baseBranch?: string; configRepoId?: string } = {},
): Target {
  const token = overrides.token ?? TOKEN;
  return {
    configRepoId: randomUUID(),
    url: sandbox.gitUrl('acme', 'configs'),
    baseBranch: 'main',
    ...overrides,
    token,
    onAuth: tokenAuth(token),
  };
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Commits the given files on main, the way another person would (git CLI on a local clone). */
async function commitOnRemote(files: Record<string, string>): Promise<string> {
  const work = await mkdtemp(path.join(root, 'work-'));
  const opts = { cwd: work, home: home() };
  await assertGit(['clone', '--quiet', sandbox.bareDir('acme', 'configs'), '.'], opts);
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(work, file), content);
  await assertGit(['add', '.'], opts);
  await assertGit(['commit', '--quiet', '-m', 'operator edit'], opts);
  await assertGit(['push', '--quiet', 'origin', 'HEAD:main'], opts);
  return assertGit(['rev-parse', 'HEAD'], opts);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'repo-cache-test-'));
  sandbox = await startGitHubSandbox({ rootDir: path.join(root, 'sandbox') });
  ({ headSha } = await sandbox.createRepo({ owner: 'acme', repo: 'configs', token: TOKEN, files: FILES }));
  cacheDir = path.join(root, 'cache');
  cache = createGitRepoCache({
    cacheDir,
    redactor: new Redactor(),
    author: AUTHOR,
    now: () => new Date('2026-01-02T03:04:05Z'),
  });
  target = newTarget();
});
afterAll(async () => {
  await sandbox.close();
  await rm(root, { recursive: true, force: true });
});

test('a commit message is redacted like every text that leaves: a registered secret and a token pattern do not reach the commit', async () => {
  const redactor = new Redactor();
  redactor.register('hunter2-webhook-secret');
  const own = createGitRepoCache({ cacheDir: path.join(root, 'cache-redact'), redactor, author: AUTHOR });
  const t = newTarget();
  const { baseCommit } = await own.sync(t);
  const leaked = `ghp_${'x'.repeat(36)}`;
  const commit = await own.createCommit(t, {
    baseCommit,
    message: `Tune\n\nnote: hunter2-webhook-secret ${leaked}\n`,
    files: [{ path: 'x.json', content: Buffer.from('{}') }],
  });
  // Native git reads what was written.
  const written = await assertGit(
    ['--git-dir', path.join(root, 'cache-redact', t.configRepoId.toLowerCase()), 'log', '-1', '--format=%B', commit],
    { home: home() },
  );
  expect(written.trim()).toBe(`Tune\n\nnote: ${REDACTED} ${REDACTED}`);
  expect(redactor.counts).toEqual({ token_pattern: 1, secret: 1 });
});

describe('sync', () => {
  test('first use clones shallow and bare-style; later uses fetch the base branch', async () => {
    expect(await cache.sync(target)).toEqual({ baseCommit: headSha, cloned: true });
    const gitdir = path.join(cacheDir, target.configRepoId);
    const top = await readdir(gitdir);
    expect(top).not.toContain('clusters');
    expect(top).not.toContain('README.md');
    expect((await readFile(path.join(gitdir, 'shallow'), 'utf8')).trim()).toBe(headSha);
    expect((await readFile(path.join(gitdir, 'refs/remotes/origin/HEAD'), 'utf8')).trim()).toBe(
      'ref: refs/remotes/origin/main',
    );
    expect(await cache.sync(target)).toEqual({ baseCommit: headSha, cloned: false });
    const newHead = await commitOnRemote({ 'README.md': '# configs v2\n' });
    expect(await cache.sync(target)).toEqual({ baseCommit: newHead, cloned: false });
    headSha = newHead;
  });

  test.each([
    ['corrupt HEAD', async (gitdir: string) => writeFile(path.join(gitdir, 'HEAD'), 'garbage\n'), /damaged/],
    [
      'missing objects',
      async (gitdir: string) => {
        for (const f of await readdir(path.join(gitdir, 'objects/pack')))
          await rm(path.join(gitdir, 'objects/pack', f));
      },
      /damaged/,
    ],
  ])('a damaged cache (%s) is cloned again', async (_name, damage, reason) => {
    const t = newTarget();
    await cache.sync(t);
    await damage(path.join(cacheDir, t.configRepoId));
    expect(await cache.sync(t)).toEqual({
      baseCommit: headSha,
      cloned: true,
      recloneReason: expect.stringMatching(reason),
    });
    expect(await cache.sync(t)).toMatchObject({ cloned: false });
  });

  test('the credentials go with the first request of each git operation: no 401 challenge first', async () => {
    const t = newTarget();
    const from = sandbox.requests.length;
    const { baseCommit } = await cache.sync(t); // a clone
    await cache.sync(t); // a fetch
    await cache.listRemoteBranches(t, { prefix: 'relyloop/' });
    const commit = await cache.createCommit(t, {
      baseCommit,
      message: 'Tune\n',
      files: [{ path: 'first-request.json', content: Buffer.from('{}') }],
    });
    await cache.pushBranch(t, { branch: `relyloop/first-${randomUUID().slice(0, 8)}`, commit });
    const git = sandbox.requests.slice(from).filter((r) => r.kind === 'git');
    expect(git.length).toBeGreaterThanOrEqual(6);
    expect(git.filter((r) => r.status === 401)).toEqual([]);
    expect(git.every((r) => /^Basic /.test(r.headers.authorization ?? ''))).toBe(true);
  });

  test('a sync asked for a branch tells its tip from the refs the fetch began with: as `git ls-remote` lists it, no request more', async () => {
    const t = newTarget();
    const { baseCommit } = await cache.sync(t);
    const branch = `relyloop/tip-${randomUUID().slice(0, 8)}`;
    const commit = await cache.createCommit(t, {
      baseCommit,
      message: 'Tune\n',
      files: [{ path: 'tip.json', content: Buffer.from('{}') }],
    });
    await cache.pushBranch(t, { branch, commit });
    const listed = (await bareGit(['ls-remote', '.', `refs/heads/${branch}`])).split('\t')[0];
    expect(listed).toBe(commit);

    for (const [asked, tip] of [
      [branch, commit],
      [`relyloop/absent-${randomUUID().slice(0, 8)}`, null],
    ] as const) {
      const plain = sandbox.requests.length;
      await cache.sync(t);
      const withBranch = sandbox.requests.length;
      const synced = await cache.sync(t, { branch: asked });
      expect(synced.branchTip).toBe(tip);
      // The same requests as a sync that was not asked: the answer came from its own fetch.
      expect(sandbox.requests.length - withBranch).toBe(withBranch - plain);
    }
    // A first sync (a clone) reads the list too.
    expect((await cache.sync(newTarget(), { branch })).branchTip).toBe(commit);
  });

  test('fetches into one cache take turns (a run and a preview of the same repo): never two transfers at once', async () => {
    // A transport that counts the git transfers in flight per cache (its URL).
    const inner = createGitHttpClient();
    let inFlight = 0;
    let most = 0;
    const counting = {
      async request(req: Parameters<typeof inner.request>[0]) {
        // A fetch's pack transfer; the ref list readRemoteTip asks for (protocol v2 ls-refs, the same
        // URL) writes nothing into the cache and takes no turn.
        const v2 = Object.entries(req.headers ?? {}).some(
          ([k, v]) => k.toLowerCase() === 'git-protocol' && v.includes('version=2'),
        );
        const transfer = /git-upload-pack$/.test(req.url) && !v2;
        if (transfer) most = Math.max(most, ++inFlight);
        try {
          const res = await inner.request(req);
          // The answer is streamed: the transfer ends when its body has been read.
          if (!transfer || res.body === undefined) return res;
          const chunks: Uint8Array[] = [];
          for await (const chunk of res.body) chunks.push(chunk);
          return {
            ...res,
            body: (async function* () {
              yield* chunks;
            })(),
          };
        } finally {
          if (transfer) inFlight--;
        }
      },
    };
    const own = createGitRepoCache({
      cacheDir: path.join(root, 'cache-turns'),
      redactor: new Redactor(),
      author: AUTHOR,
      http: counting,
    });
    const t = newTarget();
    await own.sync(t); // the clone
    const branch = `relyloop/turns-${randomUUID().slice(0, 8)}`;
    await assertGit(['branch', branch, 'main'], { cwd: sandbox.bareDir('acme', 'configs'), home: home() });
    const newHead = await commitOnRemote({ 'README.md': `# configs ${randomUUID()}\n` });
    const [a, b, tip] = await Promise.all([own.sync(t), own.sync(t), own.readRemoteTip(t, branch)]);
    expect([a.baseCommit, b.baseCommit]).toEqual([newHead, newHead]);
    expect(tip?.oid).toBe(headSha);
    expect(most).toBe(1);
    headSha = newHead;
  });

  test('a cache whose packfiles grew past the bound is cloned again', async () => {
    const t = newTarget();
    const bounded = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      bounds: { maxPackfiles: 1, maxShallowLines: 64, maxLooseObjects: 4096 },
    });
    await bounded.sync(t);
    headSha = await commitOnRemote({ 'README.md': '# configs v3\n' });
    expect(await bounded.sync(t)).toMatchObject({ cloned: false, baseCommit: headSha });
    expect(await bounded.sync(t)).toEqual({
      baseCommit: headSha,
      cloned: true,
      recloneReason: expect.stringContaining('packfiles'),
    });
  });

  test("a cache's parsed pack indexes serve the next operations, for the few caches used last and not past idle", async () => {
    const [a, b] = [newTarget(), newTarget()];
    const held = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      packCacheLimits: { gitdirs: 1, idleMs: 200 },
    });
    const read = (t: Target, commit: string) =>
      held.readParamsFile(t, { commit, configPath: 'clusters/prod', templateName: 'products' });
    const { baseCommit } = await held.sync(a);
    await expect(read(a, baseCommit)).resolves.toMatchObject({ text: PARAMS });
    // The index on disk spoiled: the next read still has it parsed in memory.
    const packDir = path.join(cacheDir, a.configRepoId, 'objects', 'pack');
    const spoil = async () => {
      for (const idx of (await readdir(packDir)).filter((f) => f.endsWith('.idx')))
        await writeFile(path.join(packDir, idx), 'not an index');
    };
    await spoil();
    await expect(read(a, baseCommit)).resolves.toMatchObject({ text: PARAMS });
    // Another cache used since (one kept): the index is read from disk again, and is spoiled.
    await held.sync(b);
    await expect(read(b, baseCommit)).resolves.toMatchObject({ text: PARAMS });
    await expect(read(a, baseCommit)).rejects.toThrow();
    // The health check reads the disk: the cache is cloned again, and read from memory after.
    expect(await held.sync(a)).toMatchObject({ cloned: true, recloneReason: expect.stringContaining('damaged') });
    await expect(read(a, baseCommit)).resolves.toMatchObject({ text: PARAMS });
    await spoil();
    await expect(read(a, baseCommit)).resolves.toMatchObject({ text: PARAMS });
    // Unused past idleMs: dropped.
    await new Promise((r) => setTimeout(r, 400));
    await expect(read(a, baseCommit)).rejects.toThrow();
  });

  test('a cache whose loose objects (our commits) grew past the bound is cloned again', async () => {
    const t = newTarget();
    const bounded = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      bounds: { maxPackfiles: 32, maxShallowLines: 64, maxLooseObjects: 5 },
    });
    const { baseCommit } = await bounded.sync(t);
    await bounded.createCommit(t, {
      baseCommit,
      message: 'local only\n',
      files: [{ path: 'a/b/c/d.json', content: Buffer.from('{}') }],
    });
    expect(await bounded.sync(t)).toEqual({
      baseCommit,
      cloned: true,
      recloneReason: expect.stringContaining('loose objects'),
    });
  });

  test.each([
    [
      'wrong token',
      (): Partial<Target> => ({ token: `ghp_${'w'.repeat(36)}` }),
      'GITHUB_AUTH_FAILED',
      /token is invalid, expired or revoked/,
    ],
    [
      'unknown repository (404, as for one the token cannot see)',
      (): Partial<Target> => ({ url: sandbox.gitUrl('acme', 'nope') }),
      'GITHUB_AUTH_FAILED',
      /does not exist or the token cannot see it/,
    ],
    [
      'unknown base branch',
      (): Partial<Target> => ({ baseBranch: 'does-not-exist' }),
      'CLONE_FAILED',
      /git clone failed/,
    ],
  ])('terminal: %s', async (_name, overrides, code, message) => {
    const t = newTarget(overrides());
    const error = await appError(cache.sync(t));
    expect([error.code, error.retryable]).toEqual([code, false]);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(t.token);
    expect(await readdir(cacheDir)).not.toContain(t.configRepoId);
  });

  test.each([
    ['a 502 from the server', { status: 502 }],
    ['a connection reset', { reset: true as const }],
  ])(
    'a transient failure (%s) is a retryable CLONE_FAILED after one request, and keeps a healthy cache',
    async (_name, fault) => {
      const t = newTarget();
      const refsRequests = () => sandbox.requests.filter((r) => r.path === '/acme/configs.git/info/refs').length;
      sandbox.injectFaults({ path: /\/acme\/configs\.git\/info\/refs$/, faults: [fault] });
      const before = refsRequests();
      const cold = await appError(cache.sync(t));
      expect([cold.code, cold.retryable]).toEqual(['CLONE_FAILED', true]);
      // Not retried in place: the step's retry policy does that (the next sync here).
      expect(refsRequests() - before).toBe(1);
      expect(await readdir(cacheDir)).not.toContain(t.configRepoId);
      expect(await cache.sync(t)).toMatchObject({ baseCommit: headSha, cloned: true });
      sandbox.injectFaults({ path: /\/acme\/configs\.git\/(info\/refs|git-upload-pack)$/, faults: [fault] });
      const warm = await appError(cache.sync(t));
      expect([warm.code, warm.retryable]).toEqual(['CLONE_FAILED', true]);
      expect(await cache.sync(t)).toEqual({ baseCommit: headSha, cloned: false });
      sandbox.clearFaults();
    },
  );

  test('a server silent past the idle timeout is a retryable CLONE_FAILED that keeps the cache; a slow one within it is waited for', async () => {
    const impatient = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      http: createGitHttpClient({ idleTimeoutMs: 1_000 }),
    });
    const t = newTarget();
    sandbox.injectFaults({ path: /\/acme\/configs\.git\/info\/refs$/, faults: [{ delayMs: 600 }] });
    expect(await impatient.sync(t)).toMatchObject({ cloned: true });
    sandbox.injectFaults({
      path: /\/acme\/configs\.git\/info\/refs$/,
      faults: [{ delayMs: 1_500 }],
    });
    const error = await appError(impatient.sync(t));
    expect([error.code, error.retryable]).toEqual(['CLONE_FAILED', true]);
    expect(error.message).toMatch(/git server sent nothing for 1 s/);
    sandbox.clearFaults();
    // A timed-out warm fetch kept the healthy cache: no new clone.
    expect(await impatient.sync(t)).toEqual({ baseCommit: headSha, cloned: false });
  });

  test('a transfer cancelled mid-way (the activity was cancelled) fails at once and keeps the cache', async () => {
    const cancel = new AbortController();
    const cancellable = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      http: createGitHttpClient({ signal: () => cancel.signal }),
    });
    const t = newTarget();
    await cancellable.sync(t);
    const held = sandbox.holdNext({ method: 'GET', path: /\/acme\/configs\.git\/info\/refs$/, when: 'before' });
    const syncing = appError(cancellable.sync(t));
    await held.reached;
    cancel.abort();
    const error = await syncing;
    held.release();
    expect([error.code, error.retryable]).toEqual(['CLONE_FAILED', true]);
    expect(error.message).toMatch(/git transfer cancelled/);
    expect(await cache.sync(t)).toEqual({ baseCommit: headSha, cloned: false });
  });

  test.each(['../escape', 'not-a-uuid', `${randomUUID()}/..`])(
    'a config repo id that is not a uuid (%s) never becomes a path',
    async (configRepoId) => {
      const error = await appError(cache.sync(newTarget({ configRepoId })));
      expect(error.code).toBe('CLONE_FAILED');
      expect(await readdir(root)).not.toContain('escape');
    },
  );
});

describe('reading the params file at the base commit', () => {
  test.each([
    ['a regular file', 'clusters/prod', { ok: PARAMS }],
    ['an executable file', 'clusters/exec', { ok: '{\n  "bm25.k1": 1.2\n}\n' }],
    ['a symlink', 'clusters/sym', { code: 'CONFIG_PATH_INVALID', message: /symlink/ }],
    ['a submodule', 'clusters/sub', { code: 'CONFIG_PATH_INVALID', message: /submodule/ }],
    ['a directory', 'clusters/dir', { code: 'CONFIG_PATH_INVALID', message: /directory/ }],
    [
      'a symlinked directory on the way',
      'clusters/linkdir',
      { code: 'CONFIG_PATH_INVALID', message: /clusters\/linkdir is a symlink/ },
    ],
    ['a file on the way', 'README.md', { code: 'CONFIG_PATH_INVALID', message: /not a directory/ }],
    ['traversal', 'clusters/../README.md', { code: 'CONFIG_PATH_INVALID', message: /\.\./ }],
    ['absolute path', '/etc', { code: 'CONFIG_PATH_INVALID', message: /relative/ }],
    ['a missing file', 'clusters/none', { code: 'PARAMS_FILE_NOT_FOUND', message: /does not exist/ }],
  ])('%s', async (_name, configPath, expected) => {
    const { baseCommit } = await cache.sync(target);
    const read = cache.readParamsFile(target, { commit: baseCommit, configPath, templateName: 'products' });
    if ('ok' in expected) {
      expect((await read).text).toBe(expected.ok);
    } else {
      const error = await appError(read);
      expect(error.code).toBe(expected.code);
      expect(error.message).toMatch(expected.message);
    }
  });

  test.each([
    ['malformed JSON', 'clusters/bad'],
    ['a non-object JSON', 'clusters/arr'],
  ])('%s is PARAMS_FILE_NOT_FOUND when the diff is applied', async (_name, configPath) => {
    const { baseCommit } = await cache.sync(target);
    const file = await cache.readParamsFile(target, { commit: baseCommit, configPath, templateName: 'products' });
    const result = tryApplyConfigDiff({
      fileText: file.text,
      diff: { 'bm25.k1': { from: 1.2, to: 1.5 } },
      declaredParams: ['bm25.k1'],
    });
    expect(result).toMatchObject({ ok: false, code: 'PARAMS_FILE_NOT_FOUND' });
  });
});

describe('commit and create-only push', () => {
  const proposalId = randomUUID();
  const studyId = randomUUID();
  const branch = createBranchName({ proposalId, studyId });
  let commit: string;
  let png: Buffer;

  test('the commit on the remote branch holds exactly the params change and the chart', async () => {
    const { baseCommit } = await cache.sync(target);
    const file = await cache.readParamsFile(target, {
      commit: baseCommit,
      configPath: 'clusters/prod',
      templateName: 'products',
    });
    const applied = tryApplyConfigDiff({
      fileText: file.text,
      diff: { 'field_boosts.title': { from: 2.0, to: 4.5 } },
      declaredParams: ['field_boosts.title'],
    });
    if (!applied.ok) throw new Error(applied.message);
    const chart = await tryRenderChart({ 'field_boosts.title': 0.7, 'bm25.k1': 0.3 });
    if (!chart.ok) throw new Error(chart.reason);
    png = chart.png;
    const message = createCommitMessage({
      proposalId,
      templateName: 'products',
      clusterName: 'prod',
      study: { id: studyId, name: 'sweep' },
      changedKeys: ['field_boosts.title'],
    });
    commit = await cache.createCommit(target, {
      baseCommit,
      message,
      files: [
        { path: file.path, content: Buffer.from(applied.text) },
        { path: chartFilePath(studyId), content: png },
      ],
    });
    expect(await cache.pushBranch(target, { branch, commit })).toBe('pushed');

    expect(await bareGit(['rev-parse', `refs/heads/${branch}`])).toBe(commit);
    expect(await bareGit(['rev-parse', `${branch}^`])).toBe(baseCommit);
    expect(await bareGit(['diff', '--name-status', `main..${branch}`])).toBe(
      `A\t.relyloop/digest-charts/${studyId}.png\nM\tclusters/prod/products.params.json`,
    );
    const diff = await bareGit(['diff', '--unified=0', `main..${branch}`, '--', 'clusters/prod/products.params.json']);
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      '-  "field_boosts.title": 2.0,',
      '+  "field_boosts.title": 4.5,',
    ]);
    expect(await bareGit(['show', '-s', '--format=%an <%ae>|%cn <%ce>|%at', branch])).toBe(
      'relyloop-bot <relyloop-bot@example.com>|relyloop-bot <relyloop-bot@example.com>|1767323045',
    );
    expect(
      await bareGit([
        'show',
        '-s',
        '--format=%(trailers:key=RelyLoop-Proposal,valueonly)%(trailers:key=RelyLoop-Study,valueonly)',
        branch,
      ]),
    ).toBe(`${proposalId}\n${studyId}`);
    expect(await bareGit(['ls-tree', branch, chartFilePath(studyId)])).toMatch(/^100644 blob /);
    const stored = await runGit(['cat-file', 'blob', `${branch}:${chartFilePath(studyId)}`], {
      cwd: sandbox.bareDir('acme', 'configs'),
      home: home(),
    });
    expect(stored.stdout.equals(png)).toBe(true);
    await bareGit(['fsck', '--strict', '--no-dangling']);
  });

  test('local refs are cleaned after the push', async () => {
    const gitdir = path.join(cacheDir, target.configRepoId);
    const refs = (await listFiles(path.join(gitdir, 'refs'))).map((f) => path.relative(gitdir, f));
    expect(refs.filter((r) => r.includes('relyloop'))).toEqual([]);
  });

  test('pushing again when the remote already has our commit succeeds without a write', async () => {
    const receivePacks = () =>
      sandbox.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack')).length;
    const before = receivePacks();
    expect(await cache.pushBranch(target, { branch, commit })).toBe('already-on-remote');
    expect(receivePacks()).toBe(before);
    expect(await bareGit(['rev-parse', `refs/heads/${branch}`])).toBe(commit);
  });

  test('the remote tip and its trailers are readable, also from a cache that never saw the commit', async () => {
    const fresh = newTarget();
    await cache.sync(fresh);
    expect(await cache.readRemoteTip(fresh, branch)).toEqual({ oid: commit, trailers: { proposalId, studyId } });
    expect(await cache.readRemoteTip(fresh, 'relyloop/study-missing')).toBeUndefined();
    expect(await cache.listRemoteBranches(fresh, { prefix: 'relyloop/' })).toContainEqual({
      name: branch,
      oid: commit,
    });
  });

  test('an existing remote branch is refused and never overwritten', async () => {
    const other = createBranchName({ proposalId: randomUUID() });
    await bareGit(['branch', other, 'main']);
    const before = await bareGit(['rev-parse', other]);
    const error = await appError(cache.pushBranch(target, { branch: other, commit }));
    expect([error.code, error.message]).toEqual(['BRANCH_EXISTS', expect.stringContaining(other)]);
    expect(await bareGit(['rev-parse', other])).toBe(before);
  });

  test('a branch created by someone else between the check and the push is rejected by the server', async () => {
    const raced = createBranchName({ proposalId: randomUUID() });
    const racing = createGitRepoCache({
      cacheDir,
      redactor: new Redactor(),
      author: AUTHOR,
      beforePushSend: async () => {
        await bareGit(['update-ref', `refs/heads/${raced}`, headSha]);
      },
    });
    const error = await appError(racing.pushBranch(target, { branch: raced, commit }));
    expect([error.code, error.message]).toEqual([
      'BRANCH_EXISTS',
      expect.stringMatching(/the server rejected the create: .*failed to update ref/),
    ]);
    expect(await bareGit(['rev-parse', raced])).toBe(headSha);
  });

  test.each([
    [
      'a ruleset',
      'ruleset' as const,
      /GH013: Repository rule violations found for refs\/heads\/relyloop\/.*Cannot create ref due to creations being restricted/,
    ],
    ['branch protection', 'protected_branch' as const, /GH006: Protected branch update failed/],
  ])(
    "a push %s declines is BRANCH_PROTECTED, terminal, with GitHub's explanation",
    async (_label, kind, explanation) => {
      const declined = createBranchName({ proposalId: randomUUID() });
      await sandbox.setPushRules('acme', 'configs', [{ kind, pattern: 'relyloop/*' }]);
      try {
        const error = await appError(cache.pushBranch(target, { branch: declined, commit }));
        expect([error.code, error.retryable]).toEqual(['BRANCH_PROTECTED', false]);
        expect(error.message).toMatch(explanation);
        expect(await bareGit(['branch', '--list', declined])).toBe('');
      } finally {
        await sandbox.setPushRules('acme', 'configs', []);
      }
    },
  );

  test('nothing under the cache dir holds the token after clone, fetch and push (objects inflated)', async () => {
    const needles = leakFormsOf(TOKEN, base64Forms);
    const files = await scanFiles(cacheDir, needles);
    const objects = await scanGitDir(path.join(cacheDir, target.configRepoId), needles);
    expect({ files: files.hits, objects: objects.hits }).toEqual({ files: [], objects: [] });
    expect(files.looked).toBeGreaterThan(10);
    expect(objects.looked).toBeGreaterThan(10);
    const config = await readFile(path.join(cacheDir, target.configRepoId, 'config'), 'utf8');
    expect(config).toContain(`url = ${sandbox.gitUrl('acme', 'configs')}`);
  });
});

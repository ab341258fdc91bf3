// GitRepoCache on a 20,000-file repository: the commit is built in the object store and the push
// sends only the new objects (refs/remotes/origin/HEAD lets isomorphic-git skip the base tree).
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGitRepoCache, tokenAuth } from '../../adapters/git/repo-cache.js';
import { chartFilePath, createBranchName } from '../../domain/branch-names.js';
import { createCommitMessage } from '../../domain/commit-message.js';
import { tryApplyConfigDiff } from '../../domain/params-diff.js';
import { Redactor } from '../../domain/redact.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { assertGit } from '../../sandbox/git-cli.js';

const TOKEN = `ghp_${'LargeRepoToken'.padEnd(36, 'y')}`;
const FILE_COUNT = 20_000;
let sandbox: GitHubSandbox;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'repo-cache-large-'));
  sandbox = await startGitHubSandbox({ rootDir: path.join(root, 'sandbox') });
  await sandbox.createLargeRepo({
    owner: 'acme',
    repo: 'big',
    token: TOKEN,
    fileCount: FILE_COUNT,
    extraFiles: { 'clusters/prod/products.params.json': '{\n  "bm25.k1": 1.2,\n  "fuzziness": "AUTO"\n}\n' },
  });
}, 120_000);
afterAll(async () => {
  await sandbox.close();
  await rm(root, { recursive: true, force: true });
});

describe('a 20,000-file config repo', () => {
  test('the remote branch differs from main by exactly the params change and the chart, sent as a small pack', async () => {
    const cache = createGitRepoCache({
      cacheDir: path.join(root, 'cache'),
      redactor: new Redactor(),
      author: { name: 'relyloop-bot', email: 'relyloop-bot@example.com' },
    });
    const target = {
      configRepoId: randomUUID(),
      url: sandbox.gitUrl('acme', 'big'),
      onAuth: tokenAuth(TOKEN),
      baseBranch: 'main',
    };
    const proposalId = randomUUID();
    const studyId = randomUUID();
    const branch = createBranchName({ proposalId, studyId });

    const { baseCommit } = await cache.sync(target);
    const file = await cache.readParamsFile(target, {
      commit: baseCommit,
      configPath: 'clusters/prod',
      templateName: 'products',
    });
    const applied = tryApplyConfigDiff({
      fileText: file.text,
      diff: { 'bm25.k1': { from: 1.2, to: 1.6 } },
      declaredParams: ['bm25.k1'],
    });
    if (!applied.ok) throw new Error(applied.message);
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096)]);
    const message = createCommitMessage({
      proposalId,
      templateName: 'products',
      clusterName: 'prod',
      study: { id: studyId, name: 'big sweep' },
      changedKeys: ['bm25.k1'],
    });
    const commit = await cache.createCommit(target, {
      baseCommit,
      message,
      files: [
        { path: file.path, content: Buffer.from(applied.text) },
        { path: chartFilePath(studyId), content: png },
      ],
    });
    expect(await cache.pushBranch(target, { branch, commit })).toBe('pushed');

    const bare = { cwd: sandbox.bareDir('acme', 'big'), home: path.join(root, 'home') };
    expect(await assertGit(['diff', '--name-status', `main..${branch}`], bare)).toBe(
      `A\t.relyloop/digest-charts/${studyId}.png\nM\tclusters/prod/products.params.json`,
    );
    expect(await assertGit(['diff', '--numstat', `main..${branch}`], bare)).toBe(
      `-\t-\t.relyloop/digest-charts/${studyId}.png\n1\t1\tclusters/prod/products.params.json`,
    );
    expect(
      Number(await assertGit(['ls-tree', '-r', '--name-only', branch], bare).then((s) => s.split('\n').length)),
    ).toBe(FILE_COUNT + 2);
    await assertGit(['fsck', '--no-dangling', '--connectivity-only'], bare);

    // Only the new blobs, trees and commit travel: a full tree of 20,000 files would be megabytes.
    const pushes = sandbox.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.body.length).toBeLessThan(64 * 1024);
    // Exactly the objects native git counts between main and the branch (the push lists them
    // against the parent's tree): the commit, the root tree, clusters/ and clusters/prod/,
    // .relyloop/ and .relyloop/digest-charts/, the params file and the PNG.
    const body = Buffer.from(pushes[0]!.body, 'latin1');
    const pack = body.indexOf('PACK');
    const newObjects = (await assertGit(['rev-list', '--objects', `main..${branch}`], bare)).split('\n');
    expect(body.readUInt32BE(pack + 8)).toBe(newObjects.length);
    expect(newObjects).toHaveLength(8);

    // A warm fetch after someone else's commit on main brings only the new objects, not the tree.
    const work = await mkdtemp(path.join(root, 'work-'));
    const opts = { cwd: work, home: bare.home };
    await assertGit(['clone', '--quiet', '--depth', '1', `file://${bare.cwd}`, '.'], opts);
    await writeFile(path.join(work, 'README.md'), 'edited\n');
    await assertGit(['add', 'README.md'], opts);
    await assertGit(['commit', '--quiet', '-m', 'operator edit'], opts);
    await assertGit(['push', '--quiet', 'origin', 'HEAD:main'], opts);
    const packDir = path.join(root, 'cache', target.configRepoId, 'objects', 'pack');
    const packsBefore = new Set(await readdir(packDir));
    expect(await cache.sync(target)).toEqual({
      baseCommit: await assertGit(['rev-parse', 'HEAD'], opts),
      cloned: false,
    });
    const newPacks = (await readdir(packDir)).filter((f) => f.endsWith('.pack') && !packsBefore.has(f));
    expect(newPacks).toHaveLength(1);
    expect((await stat(path.join(packDir, newPacks[0] as string))).size).toBeLessThan(16 * 1024);
  }, 120_000);
});

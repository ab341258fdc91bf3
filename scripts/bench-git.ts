// Measures the git steps of docs/architecture.md "The open-PR workflow" (cold clone, warm fetch,
// commit, push) with GitRepoCache (isomorphic-git) next to the same steps with the native git CLI,
// on a 20-file and a 20,000-file repository served by the GitHub sandbox. Prints a table; asserts
// nothing.
//   npx tsx scripts/bench-git.ts
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGitRepoCache, tokenAuth, type RemoteRef } from '../adapters/git/repo-cache.js';
import { createBranchName } from '../domain/branch-names.js';
import { Redactor } from '../domain/redact.js';
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/index.js';
import { assertGit } from '../sandbox/git-cli.js';
import { procStatusMb, shallowCloneArgs, tokenGitEnv } from './bench-support.js';

const TOKEN = `ghp_${'BenchToken'.padEnd(36, 'z')}`;
const PARAMS_PATH = 'clusters/prod/products.params.json';
const PARAMS = '{\n  "bm25.k1": 1.2,\n  "fuzziness": "AUTO"\n}\n';
const CHART = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(30_000, 1)]);

type Timings = Record<'cold clone' | 'warm fetch' | 'commit' | 'push', number>;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Native git with the token in an env-provided header (never argv), like a CI job would. */
function nativeGit(args: string[], cwd: string, home: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const env = tokenGitEnv(home, TOKEN, extraEnv);
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`git ${args[0]} failed: ${err}`)),
    );
  });
}

async function newRemoteCommit(sandbox: GitHubSandbox, repo: string, root: string, n: number): Promise<void> {
  const work = await mkdtemp(path.join(root, 'work-'));
  const opts = { cwd: work, home: path.join(root, 'home') };
  await assertGit(['clone', '--quiet', '--depth', '1', `file://${sandbox.bareDir('acme', repo)}`, '.'], opts);
  await writeFile(path.join(work, 'README.md'), `bench ${n}\n`);
  await assertGit(['add', 'README.md'], opts);
  await assertGit(['commit', '--quiet', '-m', `bench ${n}`], opts);
  await assertGit(['push', '--quiet', 'origin', 'HEAD:main'], opts);
  await rm(work, { recursive: true, force: true });
}

async function benchIsomorphic(sandbox: GitHubSandbox, repo: string, root: string): Promise<Timings> {
  const cache = createGitRepoCache({
    cacheDir: path.join(root, 'iso-cache'),
    redactor: new Redactor(),
    author: { name: 'relyloop-bot', email: 'relyloop-bot@example.com' },
  });
  const target: RemoteRef = {
    configRepoId: randomUUID(),
    url: sandbox.gitUrl('acme', repo),
    onAuth: tokenAuth(TOKEN),
    baseBranch: 'main',
  };
  const [, clone] = await timed(() => cache.sync(target));
  await newRemoteCommit(sandbox, repo, root, 1);
  const [{ baseCommit }, fetch] = await timed(() => cache.sync(target));
  const [commitOid, commit] = await timed(async () => {
    const file = await cache.readParamsFile(target, {
      commit: baseCommit,
      configPath: 'clusters/prod',
      templateName: 'products',
    });
    const text = file.text.replace('1.2', '1.6');
    return cache.createCommit(target, {
      baseCommit,
      message: 'bench\n',
      files: [
        { path: file.path, content: Buffer.from(text) },
        { path: '.relyloop/digest-charts/bench.png', content: CHART },
      ],
    });
  });
  const [, push] = await timed(() =>
    cache.pushBranch(target, { branch: createBranchName({ proposalId: randomUUID() }), commit: commitOid }),
  );
  return { 'cold clone': clone, 'warm fetch': fetch, commit, push };
}

async function benchNative(sandbox: GitHubSandbox, repo: string, root: string): Promise<Timings> {
  const home = path.join(root, 'home');
  const gitdir = path.join(root, `native-${randomUUID()}.git`);
  const [, clone] = await timed(() => nativeGit(shallowCloneArgs(sandbox.gitUrl('acme', repo), gitdir), root, home));
  await newRemoteCommit(sandbox, repo, root, 2);
  const [, fetch] = await timed(() =>
    nativeGit(['fetch', '--quiet', '--depth', '1', 'origin', '+refs/heads/main:refs/heads/main'], gitdir, home),
  );
  // The same object-store commit as GitRepoCache: hash blobs, edit a temporary index, write the tree.
  const [commitOid, commit] = await timed(async () => {
    const index = { GIT_INDEX_FILE: path.join(root, `index-${randomUUID()}`) };
    const text = (await nativeGit(['show', `main:${PARAMS_PATH}`], gitdir, home)).replace('1.2', '1.6');
    const paramsFile = path.join(root, 'params.json');
    const chartFile = path.join(root, 'chart.png');
    await writeFile(paramsFile, `${text}\n`);
    await writeFile(chartFile, CHART);
    const paramsBlob = await nativeGit(['hash-object', '-w', paramsFile], gitdir, home);
    const chartBlob = await nativeGit(['hash-object', '-w', chartFile], gitdir, home);
    await nativeGit(['read-tree', 'main'], gitdir, home, index);
    await nativeGit(
      [
        'update-index',
        '--add',
        '--cacheinfo',
        `100644,${paramsBlob},${PARAMS_PATH}`,
        '--cacheinfo',
        `100644,${chartBlob},.relyloop/digest-charts/bench.png`,
      ],
      gitdir,
      home,
      index,
    );
    const tree = await nativeGit(['write-tree'], gitdir, home, index);
    return nativeGit(['commit-tree', tree, '-p', 'main', '-m', 'bench'], gitdir, home);
  });
  const [, push] = await timed(() =>
    nativeGit(['push', '--quiet', 'origin', `${commitOid}:refs/heads/relyloop/native-${randomUUID()}`], gitdir, home),
  );
  return { 'cold clone': clone, 'warm fetch': fetch, commit, push };
}

/**
 * 5,000 commits on main, each rewriting one of 50 files with 1 KB of its own (≈ 5 MB of blobs in
 * the history), written with `git fast-import` into the sandbox's bare repo.
 */
async function addLongHistory(sandbox: GitHubSandbox, repo: string, root: string, commits: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 1; i <= commits; i++) {
    const content = `${i}:${'x'.repeat(1000)}\n`;
    lines.push(
      'commit refs/heads/main',
      `committer bench <bench@example.com> ${1_700_000_000 + i} +0000`,
      `data ${`history ${i}`.length}`,
      `history ${i}`,
      ...(i === 1 ? ['from refs/heads/main^0'] : []),
      `M 100644 inline history/f${i % 50}.txt`,
      `data ${Buffer.byteLength(content)}`,
      content,
    );
  }
  await assertGit(['fast-import', '--quiet'], {
    cwd: sandbox.bareDir('acme', repo),
    home: path.join(root, 'home'),
    input: `${lines.join('\n')}\n`,
  });
}

/** Peak resident set of `fn` run in a child process of its own: the clone alone, not this bench. */
async function inChild(script: string, args: string[]): Promise<{ ms: number; peakMb: number; beforeMb: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`clone child failed: ${out}`)))),
  );
  return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; peakMb: number; beforeMb: number };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--clone-once') {
    // The child of inChild: one cold clone by the repo cache, its time and this process's peak RSS.
    const [, , , url, cacheDir] = process.argv;
    const cache = createGitRepoCache({
      cacheDir: cacheDir!,
      redactor: new Redactor(),
      author: { name: 'b', email: 'b@e.c' },
    });
    const beforeMb = await procStatusMb('self', 'VmRSS');
    const start = performance.now();
    await cache.sync({ configRepoId: randomUUID(), url: url!, onAuth: tokenAuth(TOKEN), baseBranch: 'main' });
    const ms = performance.now() - start;
    console.log(JSON.stringify({ ms, peakMb: await procStatusMb('self', 'VmHWM'), beforeMb }));
    return;
  }
  const root = await mkdtemp(path.join(tmpdir(), 'bench-git-'));
  const sandbox = await startGitHubSandbox({ rootDir: path.join(root, 'sandbox') });
  try {
    await sandbox.createRepo({
      owner: 'acme',
      repo: 'small',
      token: TOKEN,
      files: {
        [PARAMS_PATH]: PARAMS,
        ...Object.fromEntries(
          Array.from({ length: 19 }, (_, i) => [`clusters/other/t${i}.params.json`, `{"i": ${i}}\n`]),
        ),
      },
    });
    await sandbox.createLargeRepo({
      owner: 'acme',
      repo: 'large',
      token: TOKEN,
      fileCount: 20_000,
      extraFiles: { [PARAMS_PATH]: PARAMS },
    });
    const rows: string[] = [];
    for (const [label, repo] of [
      ['20 files', 'small'],
      ['20,000 files', 'large'],
    ] as const) {
      const iso = await benchIsomorphic(sandbox, repo, root);
      const native = await benchNative(sandbox, repo, root);
      for (const step of Object.keys(iso) as (keyof Timings)[]) {
        rows.push(`| ${label} | ${step} | ${iso[step].toFixed(0)} ms | ${native[step].toFixed(0)} ms |`);
      }
    }
    console.log(
      ['| repo | step | isomorphic-git (GitRepoCache) | native git CLI |', '| --- | --- | --- | --- |', ...rows].join(
        '\n',
      ),
    );

    // Long history: a cold clone is shallow (depth 1), so 5,000 commits behind the tip should cost
    // nothing; measured in a process of its own for its peak memory, beside native git.
    await sandbox.createRepo({ owner: 'acme', repo: 'history', token: TOKEN, files: { 'README.md': '# history\n' } });
    await addLongHistory(sandbox, 'history', root, 5_000);
    const url = sandbox.gitUrl('acme', 'history');
    const iso = await inChild(new URL(import.meta.url).pathname, [
      '--clone-once',
      url,
      path.join(root, 'history-cache'),
    ]);
    const [, nativeMs] = await timed(() =>
      nativeGit(shallowCloneArgs(url, path.join(root, 'history-native.git')), root, path.join(root, 'home')),
    );
    const [, fullMs] = await timed(() =>
      nativeGit(
        ['clone', '--quiet', '--bare', '--single-branch', '--branch', 'main', url, path.join(root, 'history-full.git')],
        root,
        path.join(root, 'home'),
      ),
    );
    console.log(
      `\n5,000 commits (≈ 5 MB of blobs in the history), cold clone: repo cache ${iso.ms.toFixed(0)} ms, peak RSS ${iso.peakMb.toFixed(0)} MB (its own process, ${iso.beforeMb.toFixed(0)} MB before the clone); native git --depth 1 ${nativeMs.toFixed(0)} ms, native full clone ${fullMs.toFixed(0)} ms`,
    );
  } finally {
    await sandbox.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();

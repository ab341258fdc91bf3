// Pieces of `npm run bench` (scripts/bench.ts) that stand apart from the service: a network with
// latency in front of the sandbox, the requests a run sent, a cold clone beside native git, and
// `npm start`'s time to ready.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { createGitRepoCache, tokenAuth } from '../adapters/git/repo-cache.js';
import { Redactor } from '../domain/redact.js';
import type { GitHubSandbox } from '../sandbox/index.js';
import { isolatedGitEnv } from '../sandbox/git-cli.js';
import { freePort } from '../sandbox/ports.js';

/**
 * The environment `npm start` gives the service (package.json): its malloc arena limit and its
 * V8 heap limit, read from the script so the bench measures what operators run.
 */
export async function npmStartEnv(projectRoot: string): Promise<Record<string, string>> {
  const { scripts } = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const arenas = /MALLOC_ARENA_MAX=\$\{MALLOC_ARENA_MAX:-(\d+)\}/.exec(scripts.start ?? '')?.[1];
  const heap = /--max-old-space-size=(\d+)/.exec(scripts.start ?? '')?.[1];
  if (arenas === undefined || heap === undefined)
    throw new Error('package.json start: no MALLOC_ARENA_MAX or heap limit');
  return { MALLOC_ARENA_MAX: arenas, NODE_OPTIONS: `--max-old-space-size=${heap}` };
}

/**
 * The environment for native git sending `token` as GitHub's Basic header from env-provided config
 * (never argv), like a CI job; `extra` on top.
 */
export function tokenGitEnv(home: string, token: string, extra: Record<string, string> = {}): Record<string, string> {
  const header = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  return isolatedGitEnv(home, {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: header,
    ...extra,
  });
}

/** Native `git clone` of the repo cache's shape: bare, depth 1, the one branch `main`. */
export const shallowCloneArgs = (url: string, dir: string): string[] => [
  'clone',
  '--quiet',
  '--bare',
  '--depth',
  '1',
  '--single-branch',
  '--branch',
  'main',
  url,
  dir,
];

/** A kB figure of `/proc/{pid}/status` (VmRSS, VmHWM), in MB. */
export async function procStatusMb(pid: number | 'self', key: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * Until the service `child` prints its banner ("relyloop-pr is running"): milliseconds from the
 * call. Rejects with its output when it exits first or `timeoutMs` passes.
 */
export function untilRunning(child: ChildProcess, timeoutMs: number): Promise<number> {
  const start = performance.now();
  let out = '';
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the service did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('relyloop-pr is running')) {
        clearTimeout(timer);
        resolve(performance.now() - start);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}) before it was ready:\n${out}`));
    });
  });
}

export const median = (xs: number[]): number => quantile(xs, 0.5);
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

/**
 * A TCP proxy to `target` that holds every chunk `delayMs` in each direction (a round trip costs
 * 2 × delayMs more, as between a data centre and github.com); order is kept.
 */
export async function startDelayProxy(target: { host: string; port: number }, delayMs: number) {
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delayMs));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.setNoDelay(true);
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** What the sandbox received from `from` on, per run: git and REST requests. */
export function requestsPerRun(sandbox: GitHubSandbox, from: number, runs: number) {
  const sent = sandbox.requests.slice(from);
  const git = sent.filter((r) => r.kind === 'git').length / runs;
  return { git, rest: sent.length / runs - git, total: sent.length / runs };
}

/**
 * A cold clone of the repository as the service's repo cache makes it (isomorphic-git, shallow,
 * one branch, no checkout) beside native `git clone` of the same shape, alternating; milliseconds.
 */
export async function coldClones(
  sandbox: GitHubSandbox,
  repo: { owner: string; name: string; token: string },
  root: string,
  rounds: number,
): Promise<{ cache: number[]; native: number[] }> {
  const out = { cache: [] as number[], native: [] as number[] };
  const home = path.join(root, 'clone-home');
  await mkdir(home, { recursive: true });
  const env = tokenGitEnv(home, repo.token);
  const cache = createGitRepoCache({
    cacheDir: path.join(root, 'clone-cache'),
    redactor: new Redactor(),
    author: { name: 'bench', email: 'bench@example.com' },
  });
  const url = sandbox.gitUrl(repo.owner, repo.name);
  for (let i = 0; i < rounds; i++) {
    let start = performance.now();
    await cache.sync({ configRepoId: randomUUID(), url, baseBranch: 'main', onAuth: tokenAuth(repo.token) });
    out.cache.push(performance.now() - start);
    const dir = path.join(root, `native-clone-${i}.git`);
    start = performance.now();
    // Asynchronous: the sandbox answering it runs in this process.
    await promisify(execFile)('git', shallowCloneArgs(url, dir), { env });
    out.native.push(performance.now() - start);
    await rm(dir, { recursive: true, force: true });
  }
  await rm(path.join(root, 'clone-cache'), { recursive: true, force: true });
  return out;
}

/**
 * `npm start` with the embedded defaults (its own dev server and PGlite) in a new data dir, from
 * spawn to "relyloop-pr is running": the first start (cold: server database, migrations) and the
 * next ones (warm), each stopped with Ctrl-C before the next.
 */
export async function startTimes(
  root: string,
  projectRoot: string,
  warmStarts: number,
): Promise<{ cold: number; warm: number[] }> {
  const dir = path.join(root, 'start');
  await mkdir(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'secrets', 'api_token'), randomUUID());
  const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const devConfig = path.join(dir, 'temporal-dev.yaml');
  const yaml = await readFile(path.join(projectRoot, 'temporal-dev.yaml'), 'utf8');
  await writeFile(
    devConfig,
    yaml.replace(/^port: \d+$/m, `port: ${port}`).replace(/^ui_port: \d+$/m, `ui_port: ${uiPort}`),
  );
  const startEnv = await npmStartEnv(projectRoot);
  const once = async (): Promise<number> => {
    const child = spawn(process.execPath, ['dist/service/main.js'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/',
        ...startEnv,
        RELYLOOP_DATA_DIR: path.join(dir, 'data'),
        RELYLOOP_SECRETS_DIR: path.join(dir, 'secrets'),
        TEMPORAL_DEV_CONFIG: devConfig,
        RELYLOOP_API_PORT: String(apiPort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      return await untilRunning(child, 120_000);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
  };
  const cold = await once();
  const warm: number[] = [];
  for (let i = 0; i < warmStarts; i++) warm.push(await once());
  return { cold, warm };
}

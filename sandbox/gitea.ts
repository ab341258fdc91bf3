// A real Gitea server for the tests and for trying the service locally (`npm run gitea`; issue
// 24): the pinned build scripts/install-gitea.sh puts in the cache, started headless on 127.0.0.1
// with a work dir of its own (SQLite, no SSH, webhooks allowed to loopback), an admin user and a
// token, and stopped by its pid. Nothing here imitates Gitea: the answers are the forge's own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const GITEA_VERSION = 'v1.27.3';

/** The binary: GITEA_BIN, or the cached build of scripts/install-gitea.sh. */
export function giteaBinary(env: NodeJS.ProcessEnv = process.env): string {
  const cached = path.join(
    env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'relyloop-pr',
    'gitea',
    GITEA_VERSION,
    'gitea',
  );
  const bin = env.GITEA_BIN ?? cached;
  if (!existsSync(bin))
    throw new Error(
      `no Gitea ${GITEA_VERSION} at ${bin}: run \`bash scripts/install-gitea.sh\` (npm run setup -- --with-postgres does)`,
    );
  return bin;
}

/** A JSON answer of Gitea's API, read by tests that know its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the forge's own JSON, asserted field by field
export type GiteaJson = any;

export interface GiteaServer {
  /** `http://127.0.0.1:{port}` (no trailing slash). */
  origin: string;
  /** REST base, `{origin}/api/v1`. */
  api: string;
  user: string;
  /** A personal access token of `user` (write:repository, write:issue, write:user). */
  token: string;
  pid: number;
  /** Calls the REST API as `user`; the parsed JSON body (or null) and the status. */
  request(method: string, route: string, body?: unknown): Promise<{ status: number; body: GiteaJson }>;
  /** A repository of `user` with an initial commit on `main`. */
  createRepo(name: string): Promise<{ cloneUrl: string; htmlUrl: string }>;
  /** The clone URL with the token as basic-auth password (for native git). */
  authedCloneUrl(name: string): string;
  /** The repository's bare git dir on disk (native git reads what reached the forge). */
  bareDir(name: string): string;
  /** Adds or replaces a file on a branch through the contents API (one commit). */
  putFile(repo: string, filePath: string, content: string, branch?: string): Promise<void>;
  /** A further access token of `user` (Gitea's token API takes basic auth only), and its revocation. */
  createToken(name: string): Promise<string>;
  revokeToken(name: string): Promise<void>;
  stop(): Promise<void>;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`gitea ${args.slice(0, 3).join(' ')} failed: ${stderr || stdout || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

export interface StartGiteaOptions {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  user?: string;
  /**
   * The URL Gitea names itself by (links, clone URLs, webhook payloads), e.g. a proxy in front of
   * it; default its own origin.
   */
  rootUrl?: string;
  /** The server's cap on a list page (`[api] MAX_RESPONSE_ITEMS`; Gitea's default 50). */
  maxResponseItems?: number;
}

export async function startGitea(opts: StartGiteaOptions): Promise<GiteaServer> {
  const bin = giteaBinary();
  const user = opts.user ?? 'relyloop';
  const workPath = await mkdtemp(path.join(os.tmpdir(), 'relyloop-gitea-'));
  const { port } = opts;
  const origin = `http://127.0.0.1:${port}`;
  const env = { ...process.env, GITEA_WORK_DIR: workPath, HOME: workPath };
  const secret = (name: string) => run(bin, ['generate', 'secret', name], env);
  const config = path.join(workPath, 'custom', 'conf', 'app.ini');
  await mkdir(path.dirname(config), { recursive: true });
  await writeFile(
    config,
    [
      'APP_NAME = relyloop-test',
      'RUN_MODE = prod',
      `RUN_USER = ${os.userInfo().username}`,
      `WORK_PATH = ${workPath}`,
      // Gitea refuses to run as root unless its config says so; the tests run as whoever runs them (root in CI).
      ...(process.getuid?.() === 0 ? ['I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true'] : []),
      '[server]',
      'PROTOCOL = http',
      'HTTP_ADDR = 127.0.0.1',
      `HTTP_PORT = ${port}`,
      `ROOT_URL = ${opts.rootUrl ?? origin}/`,
      'DISABLE_SSH = true',
      'OFFLINE_MODE = true',
      'LFS_START_SERVER = false',
      '[database]',
      'DB_TYPE = sqlite3',
      `PATH = ${path.join(workPath, 'data', 'gitea.db')}`,
      '[repository]',
      `ROOT = ${path.join(workPath, 'repos')}`,
      'DEFAULT_BRANCH = main',
      '[security]',
      'INSTALL_LOCK = true',
      `SECRET_KEY = ${await secret('SECRET_KEY')}`,
      `INTERNAL_TOKEN = ${await secret('INTERNAL_TOKEN')}`,
      '[oauth2]',
      `JWT_SECRET = ${await secret('JWT_SECRET')}`,
      '[service]',
      'DISABLE_REGISTRATION = true',
      '[webhook]',
      'ALLOWED_HOST_LIST = loopback',
      ...(opts.maxResponseItems === undefined
        ? []
        : ['[api]', `MAX_RESPONSE_ITEMS = ${opts.maxResponseItems}`, `DEFAULT_PAGING_NUM = ${opts.maxResponseItems}`]),
      '[log]',
      'MODE = console',
      'LEVEL = Warn',
      '',
    ].join('\n'),
  );

  const child: ChildProcess = spawn(bin, ['web', '--config', config, '--work-path', workPath], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-8_000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-8_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    await rm(workPath, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gitea exited (${child.exitCode}) before it was ready:\n${output}`);
      const ok = await fetch(`${origin}/api/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`gitea not ready within 60 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const admin = ['--config', config, '--work-path', workPath];
    const password = `pw-${path.basename(workPath)}`;
    await run(
      bin,
      [
        'admin',
        'user',
        'create',
        ...admin,
        '--username',
        user,
        '--password',
        password,
        '--email',
        `${user}@example.invalid`,
        '--admin',
        '--must-change-password=false',
      ],
      env,
    );
    const token = await run(
      bin,
      [
        'admin',
        'user',
        'generate-access-token',
        ...admin,
        '--username',
        user,
        '--token-name',
        'relyloop-test',
        '--scopes',
        'write:repository,write:issue,write:user',
        '--raw',
      ],
      env,
    );

    const request: GiteaServer['request'] = async (method, route, body) => {
      const res = await fetch(`${origin}/api/v1${route}`, {
        method,
        headers: {
          authorization: `token ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    };
    const basic: GiteaServer['request'] = async (method, route, body) => {
      const res = await fetch(`${origin}/api/v1${route}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    };
    return {
      origin,
      api: `${origin}/api/v1`,
      user,
      token,
      pid: child.pid as number,
      request,
      stop,
      async createRepo(name) {
        const res = await request('POST', '/user/repos', {
          name,
          auto_init: true,
          default_branch: 'main',
          private: true,
        });
        if (res.status !== 201) throw new Error(`creating repo ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        return { cloneUrl: res.body.clone_url as string, htmlUrl: res.body.html_url as string };
      },
      authedCloneUrl: (name) => `http://${user}:${token}@127.0.0.1:${port}/${user}/${name}.git`,
      bareDir: (name) => path.join(workPath, 'repos', user.toLowerCase(), `${name.toLowerCase()}.git`),
      async putFile(repo, filePath, content, branch = 'main') {
        const route = `/repos/${user}/${repo}/contents/${filePath.split('/').map(encodeURIComponent).join('/')}`;
        const existing = await request('GET', `${route}?ref=${encodeURIComponent(branch)}`);
        const res = await request(existing.status === 200 ? 'PUT' : 'POST', route, {
          content: Buffer.from(content).toString('base64'),
          message: `seed ${filePath}`,
          branch,
          ...(existing.status === 200 ? { sha: existing.body.sha } : {}),
        });
        if (res.status !== 201 && res.status !== 200)
          throw new Error(`writing ${filePath}: ${res.status} ${JSON.stringify(res.body)}`);
      },
      async createToken(name) {
        const res = await basic('POST', `/users/${user}/tokens`, {
          name,
          scopes: ['write:repository', 'write:issue', 'write:user'],
        });
        if (res.status !== 201) throw new Error(`creating token ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.sha1 as string;
      },
      async revokeToken(name) {
        const res = await basic('DELETE', `/users/${user}/tokens/${encodeURIComponent(name)}`);
        if (res.status !== 204) throw new Error(`revoking token ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

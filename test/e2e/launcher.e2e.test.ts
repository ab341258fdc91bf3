// `npm start` as an operator runs it: the embedded dev server, PGlite, the API and a worker in one
// process tree; ready endpoints, a worker polling, the Web UI listing the namespace; Ctrl-C
// stops everything cleanly, and a second start reuses the data.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
// @temporalio/proto is CommonJS: Node's ESM loader cannot see its named exports.
import proto from '@temporalio/proto';
import { parse, stringify } from 'yaml';
import { MIGRATIONS_DIR } from '../../db/database.js';
import { readMigrations } from '../../db/migrations.js';
import { isProcessAlive } from '../../runtime/process-alive.js';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { startGitHubSandbox } from '../../sandbox/index.js';
import { freePort } from '../../sandbox/ports.js';
import { waitUntil as waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Launch {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(env: NodeJS.ProcessEnv): Launch {
  let out = '';
  // What `npm start` runs: the compiled runtime (`npm test` builds it first).
  const child = spawn(process.execPath, ['dist/service/main.js'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('npm start (embedded defaults)', () => {
  let dir: string;
  /** Where the embedded dev server's pid is kept: next to its database. */
  const PID_FILE = () => path.join(dir, 'data', 'temporal', 'temporal.sqlite.pid');
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;
  let uiUrl: string;
  let grpc: string;
  const token = 'launcher-test-token-0123456789';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relyloop-launcher-'));
    const [apiPort, grpcPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const dev = parse(await readFile(path.join(root, 'temporal-dev.yaml'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'temporal-dev.yaml'), stringify({ ...dev, port: grpcPort, ui_port: uiPort }));
    await mkdir(path.join(dir, 'secrets'), { mode: 0o700 });
    await writeFile(path.join(dir, 'secrets', 'api_token'), `${token}\n`, { mode: 0o600 });
    env = {
      RELYLOOP_DATA_DIR: path.join(dir, 'data'),
      RELYLOOP_SECRETS_DIR: path.join(dir, 'secrets'),
      RELYLOOP_API_PORT: String(apiPort),
      TEMPORAL_DEV_CONFIG: path.join(dir, 'temporal-dev.yaml'),
      LOG_LEVEL: 'info',
    };
    delete process.env.DATABASE_URL;
    delete process.env.TEMPORAL_ADDRESS;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    uiUrl = `http://127.0.0.1:${uiPort}`;
    grpc = `127.0.0.1:${grpcPort}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('serves health, readiness, a polling worker and the Web UI, then stops cleanly on SIGINT', async () => {
    const run = launch(env);
    try {
      await waitFor('the start banner', () => run.output().includes('relyloop-pr is running'), 120_000, run.output);
      expect(run.output()).toContain(`Temporal Web UI: ${uiUrl}/namespaces/relyloop/workflows`);
      expect(run.output()).toContain(`API token:       ${path.join(dir, 'secrets', 'api_token')}`);
      expect(run.output()).not.toContain(token);
      // The compiled worker loads the workflow bundle `npm run build` wrote instead of bundling.
      expect(run.output()).toContain(`"workflowCode":${JSON.stringify(path.join(root, 'dist', 'workflow-bundle.js'))}`);

      expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${apiUrl}/readyz`)).status).toBe(401);
      const ready = await fetch(`${apiUrl}/readyz`, { headers: { authorization: `Bearer ${token}` } });
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });

      const connection = await Connection.connect({ address: grpc });
      try {
        await waitFor(
          'a worker polling the task queue',
          async () => {
            const tq = await connection.workflowService.describeTaskQueue({
              namespace: 'relyloop',
              taskQueue: { name: 'relyloop-pr' },
              taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            });
            return (tq.pollers ?? []).length > 0;
          },
          30_000,
        );
        const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'relyloop' });
        expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
          expect.arrayContaining(['ProposalId', 'ConfigRepoId', 'ClusterId', 'OpenPrStep']),
        );
      } finally {
        await connection.close();
      }
      const namespaces = (await (await fetch(`${uiUrl}/api/v1/namespaces`)).json()) as {
        namespaces: { namespaceInfo: { name: string } }[];
      };
      expect(namespaces.namespaces.map((n) => n.namespaceInfo.name)).toContain('relyloop');

      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(existsSync(path.join(dir, 'data', 'pglite.lock'))).toBe(false);
      await expect(fetch(`${uiUrl}/api/v1/namespaces`)).rejects.toThrow();
      expect(run.output()).not.toContain(token);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 180_000);

  test('a second start reuses the data: the database is not migrated again', async () => {
    expect(existsSync(path.join(dir, 'data', 'temporal', 'temporal.sqlite'))).toBe(true);
    const run = launch(env);
    try {
      await waitFor('the start banner', () => run.output().includes('relyloop-pr is running'), 120_000, run.output);
      const migrations = (await readMigrations(MIGRATIONS_DIR)).length;
      expect(run.output()).toContain(`"applied":[],"alreadyApplied":${migrations}`);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 180_000);

  test('killed with SIGKILL, npm start takes its Temporal dev server with it; the next start serves and opens a PR', async () => {
    const sandbox = await startGitHubSandbox();
    try {
      const ghToken = `ghp_${'LauncherKill'.padEnd(36, 'k')}`;
      await sandbox.createRepo({
        owner: 'acme',
        repo: 'launch',
        token: ghToken,
        files: { 'clusters/prod/search.params.json': '{\n  "bm25.k1": 1.2\n}\n' },
      });
      await writeFile(path.join(dir, 'secrets', 'gh_launch'), ghToken, { mode: 0o600 });
      const withGitHub = {
        ...env,
        RELYLOOP_GITHUB_HOSTS: `http://${sandbox.host}`,
        RELYLOOP_GITHUB_WRITE_GAP: '0s',
      };

      const first = launch(withGitHub);
      await waitFor('the start banner', () => first.output().includes('relyloop-pr is running'), 120_000, first.output);
      const serverPid = Number((await readFile(PID_FILE(), 'utf8')).trim());
      expect(isProcessAlive(serverPid)).toBe(true);
      first.child.kill('SIGKILL');
      await first.exited;
      // Nothing of it keeps running: the dev server got its parent-death signal.
      await waitFor('the dev server to stop with its parent', () => !isProcessAlive(serverPid), 30_000);

      const second = launch(withGitHub);
      try {
        await waitFor(
          'the start banner',
          () => second.output().includes('relyloop-pr is running'),
          120_000,
          second.output,
        );
        const api = async (method: string, route: string, body?: unknown) => {
          const res = await fetch(`${apiUrl}/api/v1${route}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return (await res.json()) as Record<string, unknown>;
        };
        const repo = await api('POST', '/config-repos', {
          name: 'launch',
          repo_url: sandbox.repoUrl('acme', 'launch'),
          auth_ref: 'gh_launch',
        });
        const cluster = await api('POST', '/clusters', {
          name: 'launch',
          config_repo_id: repo.id,
          config_path: 'clusters/prod',
        });
        const template = await api('POST', '/templates', {
          cluster_id: cluster.id,
          name: 'search',
          declared_params: ['bm25.k1'],
        });
        const proposal = await api('POST', '/proposals', {
          cluster_id: cluster.id,
          template_id: template.id,
          config_diff: { 'bm25.k1': { from: 1.2, to: 1.5 } },
        });
        expect(await api('POST', `/proposals/${String(proposal.id)}/open_pr`)).toMatchObject({ status: 'pending' });
        await waitFor(
          'the proposal to be pr_opened',
          async () => (await api('GET', `/proposals/${String(proposal.id)}`)).status === 'pr_opened',
          60_000,
          second.output,
        );
        expect(sandbox.pulls('acme', 'launch').map((p) => p.state)).toEqual(['open']);
        second.child.kill('SIGINT');
        expect(await second.exited).toBe(0);
        expect(existsSync(PID_FILE())).toBe(false);
      } finally {
        second.child.kill('SIGKILL');
      }
    } finally {
      await sandbox.close();
    }
  }, 300_000);

  test('a dev server left by a start that could not take it along (no parent-death signal) is stopped by the next start', async () => {
    // What a crash without setpriv leaves: a start-dev on this data dir's database, its pid on file.
    const dev = parse(await readFile(path.join(dir, 'temporal-dev.yaml'), 'utf8')) as {
      port: number;
      ui_port: number;
      namespace: string;
      db_filename: string;
    };
    const dbFile = path.resolve(path.join(dir, 'data'), dev.db_filename);
    const leftover = spawn(
      findTemporalCli(process.env),
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(dev.port),
        '--ui-port',
        String(dev.ui_port),
        '--namespace',
        dev.namespace,
        '--db-filename',
        dbFile,
        '--headless',
      ],
      { stdio: 'ignore', detached: true },
    );
    const leftoverExit = new Promise((resolve) => leftover.once('exit', resolve));
    await writeFile(PID_FILE(), `${leftover.pid}\n`);
    await waitFor(
      'the leftover to serve',
      async () =>
        Connection.connect({ address: grpc, connectTimeout: 1_000 }).then(
          async (c) => {
            await c.close();
            return true;
          },
          () => false,
        ),
      30_000,
    );
    const run = launch(env);
    try {
      await waitFor('the start banner', () => run.output().includes('relyloop-pr is running'), 120_000, run.output);
      expect(run.output()).toContain('stopping the Temporal dev server a previous start left running');
      await leftoverExit;
      expect(Number((await readFile(PID_FILE(), 'utf8')).trim())).not.toBe(leftover.pid);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      leftover.kill('SIGKILL');
    }
  }, 180_000);

  test('a port held by anything else is a clear error and a non-zero exit, never a server it talks to', async () => {
    const holder = net.createServer();
    const [host, port] = grpc.split(':') as [string, string];
    await new Promise<void>((resolve) => holder.listen(Number(port), host, () => resolve()));
    try {
      const run = launch(env);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`port ${grpc} is in use by another process`);
      expect(run.output()).not.toContain('relyloop-pr is running');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);

  test('a bad setting stops start-up with a message naming it', async () => {
    const run = launch({ ...env, RELYLOOP_API_PORT: 'eighty' });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('RELYLOOP_API_PORT="eighty"');
  }, 60_000);
});

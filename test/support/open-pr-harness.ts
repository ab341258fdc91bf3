// The whole open-PR stack in one test process: a real Temporal dev server, real PostgreSQL, the
// GitHub sandbox (git over HTTP + REST), workers with the production activities, and the HTTP API
// on a random port. Only GitHub's write spacing is shortened (docs/architecture.md "Forge
// behaviour" keeps it in production).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { createApp } from '../../api/app.js';
import { openDatabase, type Database } from '../../db/database.js';
import { loadConfig, type Config } from '../../domain/config.js';
import { Redactor } from '../../domain/redact.js';
import { createLogger } from '../../runtime/logger.js';
import { createTemporalHandle, type TemporalHandle } from '../../adapters/temporal-client.js';
import { createGitTaskQueueName, createWorkers, runWorkers } from '../../worker/create-worker.js';
import { startGitHubSandbox, type GitHubSandbox, type StartGitHubSandboxOptions } from '../../sandbox/index.js';
import { createTestPostgres, type TestPostgres } from './postgres.js';
import { startTestTemporal, TEST_NAMESPACE } from './temporal.js';

export const GH_TOKEN = `ghs_${'Sb7Tk2'.repeat(7)}`;
export const OWNER = 'acme';

export interface OpenPrHarness {
  env: TestWorkflowEnvironment;
  sandbox: GitHubSandbox;
  db: Database;
  config: Config;
  redactor: Redactor;
  apiUrl: string;
  apiToken: string;
  root: string;
  /** Everything the service logged (JSON lines). */
  logs: string[];
  api(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
  /** The workers started with the harness (one process's worth: shared + git queue). */
  initialWorkers: Awaited<ReturnType<OpenPrHarness['startWorkers']>>;
  /** PostgreSQL URL of the service database (for worker processes). */
  databaseUrl: string;
  /** Environment that makes `npm run worker` use this harness's database, Temporal, secrets and data dir. */
  workerEnv(): Record<string, string>;
  /** Starts (another) worker process's worth of workers; returns them for stopping. */
  startWorkers(
    overrides?: Partial<ActivityDeps>,
  ): Promise<{ workers: Worker[]; gitTaskQueue: string; stop(): Promise<void> }>;
  close(): Promise<void>;
}

export interface OpenPrHarnessOptions {
  activityOverrides?: Partial<ActivityDeps>;
  /** Settings (environment variables) on top of the harness's own. */
  env?: Record<string, string>;
  /** False: no in-process workers (the test runs worker processes itself). */
  inProcessWorkers?: boolean;
  /** A Temporal the test runs itself (e.g. to restart it); default: a throwaway dev server. */
  temporalAddress?: string;
  /** Sandbox options (e.g. github.com's layout over https with `tls`). */
  sandbox?: StartGitHubSandboxOptions;
}

export async function startOpenPrHarness(opts: OpenPrHarnessOptions = {}): Promise<OpenPrHarness> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'relyloop-openpr-'));
  const secretsDir = path.join(root, 'secrets');
  await mkdir(secretsDir);
  const apiToken = randomBytes(24).toString('hex');
  await writeFile(path.join(secretsDir, 'api_token'), apiToken);
  await writeFile(path.join(secretsDir, 'gh_acme'), `${GH_TOKEN}\n`);
  await writeFile(path.join(secretsDir, 'gh_empty'), '');

  const sandbox = await startGitHubSandbox(opts.sandbox);
  const settings: Record<string, string> = {
    RELYLOOP_DATA_DIR: path.join(root, 'data'),
    RELYLOOP_SECRETS_DIR: secretsDir,
    RELYLOOP_GITHUB_HOSTS: `github.com,http://${sandbox.host}`,
    TEMPORAL_NAMESPACE: TEST_NAMESPACE,
    TEMPORAL_TASK_QUEUE: `open-pr-${randomUUID().slice(0, 8)}`,
    RELYLOOP_BASE_URL: 'https://relyloop.example.com',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  // Settings are checked before anything else starts, so a bad one leaves nothing running.
  let config: Config;
  try {
    config = loadConfig(settings, root);
  } catch (error) {
    await sandbox.close();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const env =
    opts.temporalAddress === undefined
      ? await startTestTemporal()
      : await TestWorkflowEnvironment.createFromExistingServer({
          address: opts.temporalAddress,
          namespace: TEST_NAMESPACE,
        });
  const pg: TestPostgres = await createTestPostgres();
  const db = await openDatabase({ url: pg.url, pgliteDir: '', statementTimeoutMs: config.dbStatementTimeout });
  const redactor = new Redactor();
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    redactor,
    destination: {
      write: (line: string) => {
        logs.push(line);
        return true;
      },
    } as never,
  });
  const temporal: TemporalHandle = createTemporalHandle(env.address, TEST_NAMESPACE);

  const stops: (() => Promise<void>)[] = [];
  const startWorkers: OpenPrHarness['startWorkers'] = async (overrides = {}) => {
    const gitTaskQueue = createGitTaskQueueName(config.temporalTaskQueue);
    const created = await createWorkers({
      address: env.address,
      namespace: TEST_NAMESPACE,
      taskQueue: config.temporalTaskQueue,
      gitTaskQueue,
      activities: createActivities({
        config,
        db,
        redactor,
        client: env.client,
        gitTaskQueue,
        githubLimiter: { writeMinTimeMs: 0 },
        // The workers' App tokens age with the sandbox's clock, which tests advance.
        now: () => sandbox.clock.now(),
        ...opts.activityOverrides,
        ...overrides,
      }),
    });
    const { stop } = runWorkers(created);
    stops.push(stop);
    return { workers: created.workers, gitTaskQueue, stop };
  };
  const initialWorkers =
    opts.inProcessWorkers === false
      ? { workers: [], gitTaskQueue: '', stop: async () => undefined }
      : await startWorkers();

  const app = createApp({ config, db, temporal, logger, apiToken, redactor });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  const apiUrl = `http://127.0.0.1:${port}`;

  return {
    env,
    sandbox,
    db,
    config,
    redactor,
    apiUrl,
    apiToken,
    root,
    logs,
    startWorkers,
    initialWorkers,
    databaseUrl: pg.url,
    workerEnv: () => ({ ...settings, DATABASE_URL: pg.url, TEMPORAL_ADDRESS: env.address }),
    async api(method, pathAndQuery, body) {
      const res = await fetch(`${apiUrl}/api/v1${pathAndQuery}`, {
        method,
        headers: {
          authorization: `Bearer ${apiToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const stop of stops) await stop();
      await temporal.close();
      await db.close();
      await pg.drop();
      await sandbox.close();
      await env.teardown();
      await rm(root, { recursive: true, force: true });
    },
  };
}

// Launches `temporal server start-dev` (for `npm start` and the test harness) as configured by
// temporal-dev.yaml, registering the search attributes of domain/temporal-contracts.ts, and waits
// until the namespace answers. Its output is parsed and re-logged through our (redacting) logger.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
// @temporalio/client and @temporalio/proto load once the server is spawned (0.3 s of a start the
// server's own boot hides). @temporalio/proto is CommonJS: Node's ESM loader cannot see its named exports.
import type { temporal } from '@temporalio/proto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES, searchAttributeDefinitions } from '../domain/temporal-contracts.js';
import { assertPortFree, parentBoundCommand, stopLeftoverDevServer, writePidFile } from './dev-server-ownership.js';
import type { Logger } from './logger.js';

const settingsSchema = z.strictObject({
  ip: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  ui_port: z.number().int().min(1).max(65_535),
  namespace: z.string().regex(/^[A-Za-z0-9._-]+$/),
  db_filename: z.string().min(1),
  log_level: z.enum(['debug', 'info', 'warn', 'error']),
  dynamic_config: z.record(z.string().regex(/^[A-Za-z0-9_.]+$/), z.unknown()).default({}),
  sqlite_pragmas: z.partialRecord(z.enum(['journal_mode', 'synchronous']), z.string().regex(/^[A-Za-z]+$/)).default({}),
});

export type DevServerSettings = z.infer<typeof settingsSchema>;

export async function readDevServerSettings(file: string): Promise<DevServerSettings> {
  const parsed = settingsSchema.safeParse(parseYaml(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/**
 * The `--dynamic-config-value` flags of temporal-dev.yaml's `dynamic_config` (also given to the
 * tests' dev servers).
 */
export function dynamicConfigArgs(s: DevServerSettings): string[] {
  return Object.entries(s.dynamic_config).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

/** `temporal server start-dev` arguments; the sqlite path is resolved inside the data dir. */
export function devServerArgs(s: DevServerSettings, dataDir: string): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    s.ip,
    '--port',
    String(s.port),
    '--ui-port',
    String(s.ui_port),
    '--namespace',
    s.namespace,
    '--db-filename',
    path.resolve(dataDir, s.db_filename),
    '--log-level',
    s.log_level,
    '--log-format',
    'json',
  ];
  // The search attributes the workflows set, from their one definition.
  for (const { name, type } of searchAttributeDefinitions()) args.push('--search-attribute', `${name}=${type}`);
  args.push(...dynamicConfigArgs(s));
  for (const [pragma, value] of Object.entries(s.sqlite_pragmas)) args.push('--sqlite-pragma', `${pragma}=${value}`);
  return args;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  namespace: string;
  process: ChildProcess;
  /** Settles with the exit code when the server exits (whenever it does: before or after start-up). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Re-logs the server's output through our logger. Once it is being stopped, its own chatter about
 * the shutdown (dozens of warn-level "Failed to poll for task" from its internal workers) goes to
 * debug: a stop is not a problem to report. Errors stay errors.
 */
export function forwardDevServerLogs(
  streams: readonly (Readable | null)[],
  logger: Logger,
  isStopping: () => boolean,
): void {
  for (const stream of streams) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      let level: 'debug' | 'info' | 'warn' | 'error' = 'info';
      let fields: Record<string, unknown> = { line };
      try {
        const json = JSON.parse(line) as Record<string, unknown>;
        const lvl = String(json.level ?? '').toLowerCase();
        if (lvl === 'warn' || lvl === 'error') level = lvl;
        delete json.level;
        delete json.time;
        fields = json;
      } catch {
        // not JSON: keep the raw line
      }
      if (isStopping() && level !== 'error') level = 'debug';
      logger[level](fields, typeof fields.msg === 'string' ? fields.msg : 'temporal server output');
    });
  }
}

async function waitUntilServing(
  address: string,
  namespace: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { Connection } = await import('@temporalio/client');
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `temporal server exited (${child.exitCode ?? child.signalCode}) before serving; see its log above`,
      );
    }
    try {
      // Short: until the server listens, a connect waits out its whole timeout (gRPC retries the
      // refused connection inside it); a 1 s timeout cost up to 1 s of every start.
      const connection = await Connection.connect({ address, connectTimeout: 200 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`temporal server did not answer on ${address} within ${timeoutMs} ms`, { cause: lastError });
}

/** The proto enum of each search attribute type the workflows use. */
async function indexedValueTypes(): Promise<Record<string, temporal.api.enums.v1.IndexedValueType>> {
  const { IndexedValueType } = (await import('@temporalio/proto')).default.temporal.api.enums.v1;
  return {
    KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  };
}

/**
 * `start-dev --search-attribute` registers attributes only on a namespace it creates: on a data
 * dir an earlier version started, one added since (OpenPrStepSince) would be missing, and every
 * run setting it would fail its workflow tasks. The missing ones are added here; returns their names.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const { Connection } = await import('@temporalio/client');
  const INDEXED_VALUE_TYPES = await indexedValueTypes();
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.values(SEARCH_ATTRIBUTES).filter((key) => !(key.name in (customAttributes ?? {})));
    if (missing.length === 0) return [];
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type] as temporal.api.enums.v1.IndexedValueType]),
      ),
    });
    return missing.map((key) => key.name);
  } finally {
    await connection.close();
  }
}

export interface StartDevServerOptions {
  cli: string;
  /** The environment the server gets (PATH and HOME; nothing of ours). */
  env: { PATH: string; HOME: string };
  settings: DevServerSettings;
  dataDir: string;
  logger: Logger;
  timeoutMs?: number;
}

export async function startDevServer({
  cli,
  env,
  settings,
  dataDir,
  logger,
  timeoutMs = 60_000,
}: StartDevServerOptions): Promise<DevServer> {
  const dbFile = path.resolve(dataDir, settings.db_filename);
  await mkdir(path.dirname(dbFile), { recursive: true });
  const address = `${settings.ip}:${settings.port}`;
  // One server per data dir, and only ours (dev-server-ownership.ts): one a crashed start left
  // behind is stopped; a port anything else holds is an error, not a server to talk to.
  const pidFile = `${dbFile}.pid`;
  await stopLeftoverDevServer(pidFile, dbFile, logger);
  await assertPortFree(settings.ip, settings.port, "the Temporal dev server's gRPC");
  await assertPortFree(settings.ip, settings.ui_port, 'the Temporal Web UI');
  // The child gets a minimal environment: nothing of ours (secrets dir paths, tokens) leaks into it.
  // It runs in its own process group so Ctrl-C reaches only us and we stop it last, after the
  // worker has drained. It gets SIGTERM when this process dies, even by SIGKILL (setpriv's
  // parent-death signal); the exit hook below covers an orderly exit.
  const bound = parentBoundCommand(cli, devServerArgs(settings, dataDir));
  const child = spawn(bound.command, bound.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: env.PATH, HOME: env.HOME },
    detached: true,
  });
  if (child.pid !== undefined) await writePidFile(pidFile, child.pid);
  if (!bound.bound)
    logger.warn(
      'setpriv (util-linux) not found: the Temporal dev server is not stopped if this process is killed; the next start stops it',
    );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping = false;
  forwardDevServerLogs([child.stdout, child.stderr], logger, () => stopping);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      process.off('exit', killOnExit);
      rm(pidFile, { force: true }).catch(() => undefined);
      resolve(code);
    }),
  );
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilServing(address, settings.namespace, child, timeoutMs);
    const added = await ensureSearchAttributes(address, settings.namespace);
    if (added.length > 0)
      logger.info({ added }, 'registered search attributes the namespace lacked (its data dir predates them)');
  } catch (error) {
    await stop(2_000);
    throw error;
  }
  return {
    address,
    uiUrl: `http://${settings.ip === '0.0.0.0' ? 'localhost' : settings.ip}:${settings.ui_port}`,
    namespace: settings.namespace,
    process: child,
    exited,
    stop,
  };
}

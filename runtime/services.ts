// Opens the dependencies every process role shares: the database (migrated) and a Temporal
// worker on the task queue. Each is registered with the shutdown stack as it opens.
import path from 'node:path';
import type { Config } from '../domain/config.js';
import { openDatabase, type Database } from '../db/database.js';
import { createGitTaskQueueName, createWorkers, runWorkers } from '../worker/create-worker.js';
import type { Logger } from './logger.js';
import type { ShutdownStack } from './shutdown.js';

export async function openServiceDatabase(config: Config, logger: Logger, shutdown: ShutdownStack): Promise<Database> {
  const db = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite'), statementTimeoutMs: config.dbStatementTimeout });
  shutdown.push('database', () => db.close());
  logger.info({ kind: db.kind, applied: db.migrations.applied, alreadyApplied: db.migrations.alreadyApplied.length }, 'database ready');
  return db;
}

/** Starts both workers polling; `done` settles if either stops or fails while running. */
export async function startWorkers(
  config: Config, address: string, buildActivities: (gitTaskQueue: string) => { shared: object; git: object },
  logger: Logger, shutdown: ShutdownStack,
): Promise<{ done: Promise<unknown> }> {
  const gitTaskQueue = createGitTaskQueueName(config.temporalTaskQueue);
  const workers = runWorkers(await createWorkers({
    address, namespace: config.temporalNamespace, taskQueue: config.temporalTaskQueue, gitTaskQueue,
    activities: buildActivities(gitTaskQueue), shutdownGraceMs: config.shutdownGrace,
  }));
  shutdown.push('workers', () => workers.stop());
  logger.info({ taskQueue: config.temporalTaskQueue, gitTaskQueue, namespace: config.temporalNamespace }, 'workers polling');
  return { done: workers.done };
}

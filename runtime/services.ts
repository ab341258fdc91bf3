// Opens the dependencies every process role shares: the database (migrated) and a Temporal
// worker on the task queue. Each is registered with the shutdown stack as it opens.
import path from 'node:path';
import type { Config } from '../domain/config.js';
import { openDatabase, type Database } from '../db/database.js';
import { createWorker } from '../worker/create-worker.js';
import type { Logger } from './logger.js';
import type { ShutdownStack } from './shutdown.js';

export async function openServiceDatabase(config: Config, logger: Logger, shutdown: ShutdownStack): Promise<Database> {
  const db = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
  shutdown.push('database', () => db.close());
  logger.info({ kind: db.kind, applied: db.migrations.applied, alreadyApplied: db.migrations.alreadyApplied.length }, 'database ready');
  return db;
}

/** Starts polling; `done` settles if the worker stops or fails while running. */
export async function startWorker(config: Config, address: string, activities: object, logger: Logger, shutdown: ShutdownStack): Promise<{ done: Promise<void> }> {
  const { worker, connection } = await createWorker({
    address, namespace: config.temporalNamespace, taskQueue: config.temporalTaskQueue, activities,
  });
  const running = worker.run();
  shutdown.push('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  });
  logger.info({ taskQueue: config.temporalTaskQueue, namespace: config.temporalNamespace }, 'worker polling');
  return { done: running };
}

// What every process that runs the service's workers starts — `npm run worker` alone, `npm start`
// beside the API: a Temporal client, the workers with this process's activities, and the
// reconciliation schedule brought in line with the configured interval.
import { createActivities } from '../activities/index.js';
import { createTemporalHandle, type TemporalHandle } from '../adapters/temporal-client.js';
import type { Database } from '../db/database.js';
import type { Config } from '../domain/config.js';
import type { Redactor } from '../domain/redact.js';
import type { Logger } from '../runtime/logger.js';
import type { ShutdownStack } from '../runtime/shutdown.js';
import type { WorkerMetrics } from '../runtime/worker-metrics.js';
import { startWorkers } from './create-worker.js';
import { ensureReconcileSchedule } from './reconcile-schedule.js';

export interface ServiceWorkerDeps {
  config: Config;
  /** The Temporal frontend, host:port. */
  address: string;
  db: Database;
  redactor: Redactor;
  logger: Logger;
  shutdown: ShutdownStack;
  metrics: WorkerMetrics;
}

/** Starts them; `temporal` is the client (the API shares it), `done` settles when the workers stop. */
export async function startServiceWorkers(
  deps: ServiceWorkerDeps,
): Promise<{ temporal: TemporalHandle; done: Promise<unknown> }> {
  const { config, address, db, redactor, logger, shutdown, metrics } = deps;
  const temporal = createTemporalHandle(address, config.temporalNamespace);
  shutdown.push('temporal client', () => temporal.close());
  const workers = await startWorkers(
    config,
    address,
    (gitTaskQueue) => createActivities({ config, db, redactor, client: temporal.client, gitTaskQueue, metrics }),
    logger,
    shutdown,
    metrics,
  );
  await ensureReconcileSchedule(
    temporal.client,
    { taskQueue: config.temporalTaskQueue, intervalMs: config.reconcileInterval },
    logger,
  );
  return { temporal, done: workers.done };
}

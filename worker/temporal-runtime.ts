// Routes the Temporal SDK's own logs (worker lifecycle, workflow/activity logger, and the Rust
// core's logs) through our redacting pino logger, and, when RELYLOOP_WORKER_METRICS_ADDRESS is
// set, serves the worker's metrics there (worker/metrics-endpoint.ts): the SDK's, exported on a
// private loopback port, and the process's own. Must run once per process, before any Worker or
// NativeConnection is created.
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Redactor } from '../domain/redact.js';
import type { Config } from '../domain/config.js';
import type { Logger } from '../runtime/logger.js';
import type { ShutdownStack } from '../runtime/shutdown.js';
import { createWorkerMetrics, type WorkerMetrics } from '../runtime/worker-metrics.js';
import { freeLoopbackAddress, serveWorkerMetrics } from './metrics-endpoint.js';

const TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export function installTemporalRuntime(logger: Logger, opts: { sdkMetricsAddress?: string } = {}): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      sdkLogger[TO_PINO[entry.level]]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(opts.sdkMetricsAddress === undefined
        ? {}
        : {
            metrics: {
              prometheus: {
                bindAddress: opts.sdkMetricsAddress,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }),
    },
    // Entry points own signal handling so they can stop the API, worker and dev server in order.
    shutdownSignals: [],
  });
}

/** The Temporal runtime and this process's worker metrics, served when the configuration asks. */
export async function installWorkerRuntime(
  config: Config,
  logger: Logger,
  shutdown: ShutdownStack,
  redactor: Redactor,
): Promise<WorkerMetrics> {
  const metrics = createWorkerMetrics(redactor.counts);
  if (config.workerMetricsAddress === undefined) {
    installTemporalRuntime(logger);
    return metrics;
  }
  const sdkAddress = await freeLoopbackAddress();
  installTemporalRuntime(logger, { sdkMetricsAddress: sdkAddress });
  const endpoint = await serveWorkerMetrics({
    address: config.workerMetricsAddress,
    sdkAddress,
    registry: metrics.registry,
    logger,
  });
  shutdown.push('worker metrics', () => endpoint.close());
  logger.info({ url: endpoint.url }, 'worker metrics served');
  return metrics;
}

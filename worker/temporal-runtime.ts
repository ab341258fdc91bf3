// Routes the Temporal SDK's own logs (worker lifecycle, workflow/activity logger, and the Rust
// core's logs) through our redacting pino logger, and, when an address is given, serves the SDK's
// metrics, the workflow's own (workflows/open-pr-metrics.ts) and the process's redactions for Prometheus at
// http://{address}/metrics. Must run once per process, before any Worker or NativeConnection is
// created.
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import { onRedaction } from '../domain/redact.js';
import type { Logger } from '../runtime/logger.js';

const TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

export function installTemporalRuntime(logger: Logger, opts: { metricsAddress?: string } = {}): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      sdkLogger[TO_PINO[entry.level]]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(opts.metricsAddress === undefined ? {} : {
        metrics: { prometheus: { bindAddress: opts.metricsAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
      }),
    },
    // Entry points own signal handling so they can stop the API, worker and dev server in order.
    shutdownSignals: [],
  });
  if (opts.metricsAddress !== undefined) {
    const redacted = Runtime.instance().metricMeter.createCounter('relyloop_redacted_secrets', 'secrets', 'Secrets this process removed from a log line, failure or GitHub text, by kind.');
    onRedaction((kind, count) => redacted.add(count, { kind }));
  }
}

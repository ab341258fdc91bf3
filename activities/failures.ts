// Converts whatever an activity throws into the ApplicationFailure Temporal records
// (docs/architecture.md "The open-PR workflow", docs/architecture.md "Error codes"): terminal codes
// become non-retryable failures whose `type` is the code; a rate-limit wait becomes a retryable
// failure with `nextRetryDelay` (docs/architecture.md "Forge behaviour": no worker slot is held
// while waiting); anything else is retryable; a cancelled attempt reports its cancellation.
// Messages are redacted and no cause or stack of ours is attached, because failures are persisted
// in workflow history.
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { AppError, transientTypeOf } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';
import type { WorkerMetrics } from '../runtime/worker-metrics.js';
import { tryCurrentContext } from '../runtime/activity-context.js';
import { wrapActivities } from './wrap-activities.js';

export function toApplicationFailure(error: unknown, redactor: Redactor): ApplicationFailure {
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      type: error.type ?? 'Error',
      message: redactor.redactString(error.message),
      nonRetryable: error.nonRetryable === true,
      ...(error.nextRetryDelay === undefined ? {} : { nextRetryDelay: error.nextRetryDelay }),
    });
  }
  if (error instanceof AppError) {
    const message = redactor.redactString(error.message);
    if (!error.retryable) return ApplicationFailure.create({ type: error.code, message, nonRetryable: true });
    // Retried by Temporal; a rate limit waits as long as the service asked (docs/architecture.md
    // "Forge behaviour"). Once the retry budget runs out the workflow reports the code itself.
    return ApplicationFailure.create({
      type: transientTypeOf(error.code),
      message,
      nonRetryable: false,
      ...(error.retryAfterMs === undefined ? {} : { nextRetryDelay: error.retryAfterMs }),
    });
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return ApplicationFailure.create({
    type: e.name || 'Error',
    message: redactor.redactString(e.message),
    nonRetryable: false,
  });
}

/**
 * Wraps every activity of `activities` so its failures pass through toApplicationFailure, and
 * counts what operators alert on (docs/operations.md "Metrics"): retried attempts per activity,
 * and GitHub rate-limit waits handed to Temporal as nextRetryDelay.
 */
export function withFailureConversion<T extends object>(
  activities: T,
  redactor: Redactor,
  metrics: Pick<WorkerMetrics, 'activityRetried' | 'rateLimitWaited'>,
): T {
  return wrapActivities(activities, (fn, name) => async (...args) => {
    const context = tryCurrentContext();
    if (context !== undefined && context.info.attempt > 1) {
      metrics.activityRetried(name);
    }
    try {
      return await fn(...args);
    } catch (error) {
      // Cancelled (the run was cancelled, or the server gave the attempt up): whatever the aborted
      // I/O threw, report the cancellation, so the run sees its step cancelled, not failed.
      const cancelled = context?.cancellationSignal.aborted === true ? context.cancellationSignal.reason : undefined;
      if (cancelled !== undefined)
        throw cancelled instanceof CancelledFailure ? cancelled : new CancelledFailure(String(cancelled));
      const failure = toApplicationFailure(error, redactor);
      if (context !== undefined && failure.nextRetryDelay !== undefined) {
        metrics.rateLimitWaited(name);
      }
      throw failure;
    }
  });
}

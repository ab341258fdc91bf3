// Timeouts and retry policies of openPrWorkflow's activities, from the run's policy.
// The rules:
// - Every activity heartbeats (activities/heartbeat.ts), so an attempt on a worker that died is
//   noticed after `heartbeatTimeoutMs`, not after its start-to-close.
// - Transient failures are retried with capped backoff for a wall-time budget
//   (scheduleToCloseTimeout), not a count of attempts; terminal codes are never retried.
// - Start-to-close only bounds a live attempt that hangs: database steps sit above the statement
//   timeout (so the server has cancelled every query of an attempt before Temporal abandons it).
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { GitActivities, SharedActivities } from '../activities/types.js';
import { LOAD_ERROR_CODES, WORKFLOW_ERROR_CODES } from '../domain/errors.js';
import type { OpenPrPolicy } from '../domain/open-pr-contracts.js';

/**
 * Codes that end the run at once (docs/architecture.md "Error codes") plus the preconditions `load`
 * can find broken.
 */
export const NON_RETRYABLE_TYPES = [...WORKFLOW_ERROR_CODES, ...LOAD_ERROR_CODES];

/**
 * Temporal's failure type for a heartbeat timeout, listed as non-retryable on the git steps: a
 * retry would wait on the same worker-specific queue; the workflow claims another worker instead.
 */
export const HEARTBEAT_TIMEOUT_TYPE = 'TemporalTimeout:Heartbeat';

const retry = (maximumInterval: string, extraNonRetryable: string[] = []): RetryPolicy => ({
  // No maximumAttempts: the budget is scheduleToCloseTimeout.
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval,
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, ...extraNonRetryable],
});

export type Proxy<T> = (summary: string) => T;

/** Activity proxies whose calls carry a one-line summary shown in the Web UI's event history. */
const withSummary =
  <T>(options: ActivityOptions): Proxy<T> =>
  (summary) =>
    proxyActivities<T & object>({ ...options, summary }) as T;

export interface StepProxies {
  /** Database steps: load, recheck, mark opened, the failure record. */
  db: Proxy<SharedActivities>;
  /**
   * GitHub steps: open PR, comment, compensation. Rate-limit waits arrive as nextRetryDelay
   * (docs/architecture.md "Forge behaviour").
   */
  github: Proxy<SharedActivities>;
  /** Control-plane calls: the lock request (signal-with-start) and the worker claim. */
  control: Proxy<SharedActivities>;
  /** Git steps on the claimed worker's own task queue. */
  gitOn(taskQueue: string): Proxy<GitActivities>;
}

export function createStepProxies(policy: OpenPrPolicy): StepProxies {
  const heartbeatTimeout = policy.heartbeatTimeoutMs;
  // A cancelled run waits until its running step has stopped (the activity learns of the cancel
  // through its heartbeat and aborts its I/O): the lock is released only once no side effect is
  // in flight, and the history records the step's attempts.
  const step = <T>(options: ActivityOptions): Proxy<T> =>
    withSummary<T>({ ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
  return {
    db: step({
      // Up to two statements and two waits for a pooled connection, each cut off by the database.
      startToCloseTimeout: 4 * policy.dbStatementTimeoutMs + 5_000,
      heartbeatTimeout,
      scheduleToCloseTimeout: policy.dbRetryBudgetMs,
      retry: retry('10 seconds'),
    }),
    github: step({
      startToCloseTimeout: '2 minutes',
      heartbeatTimeout,
      scheduleToCloseTimeout: policy.githubRetryBudgetMs,
      retry: retry('30 seconds'),
    }),
    control: step({
      startToCloseTimeout: '20 seconds',
      heartbeatTimeout,
      scheduleToCloseTimeout: policy.dbRetryBudgetMs,
      retry: retry('10 seconds'),
    }),
    gitOn: (taskQueue) =>
      step({
        taskQueue,
        scheduleToStartTimeout: policy.gitWorkerStartTimeoutMs,
        // A hung transfer is cut by the git idle timeout; this only bounds a huge clone.
        startToCloseTimeout: '5 minutes',
        heartbeatTimeout,
        scheduleToCloseTimeout: policy.gitRetryBudgetMs,
        retry: retry('15 seconds', [HEARTBEAT_TIMEOUT_TYPE]),
      }),
  };
}

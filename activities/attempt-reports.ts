// A failed attempt that Temporal will retry leaves no trace in the run's history: only a step's
// last attempt is recorded, and a step cancelled while it waits to retry records none
// (GET …/open_pr showed 0 attempts for it). Each such attempt is reported to its run, which keeps
// the count and the latest failure in its progress (workflows/open-pr-progress.ts).
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { attemptFailedSignal, OPEN_PR_WORKFLOW } from '../domain/open-pr-contracts.js';
import { tryCurrentContext } from '../runtime/activity-context.js';
import { wrapActivities } from './wrap-activities.js';

/** A report must not hold up the failure it describes for long. */
const REPORT_DEADLINE_MS = 5_000;

/**
 * Reports every retryable failure of an openPrWorkflow activity to its run, best effort and
 * without waiting for it: the attempt fails as it would anyway. Wrap outside the failure
 * conversion, whose ApplicationFailures carry the redacted message.
 */
export function withAttemptReports<T extends object>(activities: T, client: Client): T {
  return wrapActivities(activities, (fn, name) => async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      const info = tryCurrentContext()?.info;
      if (
        info?.workflowType === OPEN_PR_WORKFLOW &&
        info.workflowExecution !== undefined &&
        error instanceof ApplicationFailure &&
        !error.nonRetryable
      ) {
        const { workflowId, runId } = info.workflowExecution;
        const report = { activity: name, attempt: info.attempt, failure: `${error.type ?? 'Error'}: ${error.message}` };
        void client.connection
          .withDeadline(Date.now() + REPORT_DEADLINE_MS, () =>
            client.workflow.getHandle(workflowId, runId).signal(attemptFailedSignal, report),
          )
          .catch(() => undefined); // the run is gone or Temporal is unreachable: the report is only a record
      }
      throw error;
    }
  });
}

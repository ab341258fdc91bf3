// Starting a workflow from a route (open_pr, reconcile, a webhook that needs a read-back): within
// 5 s, attaching to a run of the same id that is still running (conflict policy USE_EXISTING), and
// a Temporal that does not answer is a 503 QUEUE_UNAVAILABLE, never a silent 202.
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type WorkflowStartOptions } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { isTemporalUnavailable } from '../../adapters/temporal-client.js';
import { AppError } from '../../domain/errors.js';
import { proposalRejectedSignal } from '../../domain/open-pr-contracts.js';
import { openPrWorkflowId } from '../../domain/workflow-ids.js';
import { mergeRejectedSignal, mergeWorkflowId } from '../../domain/merge-contracts.js';
import type { RouteContext } from './context.js';

/** How long a route waits for Temporal to accept a start or answer a query. */
const TEMPORAL_DEADLINE_MS = 5_000;

export const queueUnavailable = (cause: unknown) =>
  new AppError({
    code: 'QUEUE_UNAVAILABLE',
    message: 'the workflow service (Temporal) cannot be reached; try again',
    cause,
  });

/** Starts (or attaches to) `workflowId` on the shared task queue; the first execution's run id. */
export async function startOrAttach(
  ctx: Pick<RouteContext, 'temporal' | 'config'>,
  workflowType: string,
  options: Omit<WorkflowStartOptions, 'taskQueue' | 'workflowIdConflictPolicy'>,
): Promise<string> {
  try {
    const handle = await ctx.temporal.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      ctx.temporal.client.workflow.start(workflowType, {
        ...options,
        taskQueue: ctx.config.temporalTaskQueue,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      } as WorkflowStartOptions),
    );
    return handle.firstExecutionRunId;
  } catch (error) {
    if (isTemporalUnavailable(error)) throw queueUnavailable(error);
    throw error; // a 500 with a request id; the error middleware logs it
  }
}

/**
 * Sends `signal` to `workflowId` if it runs, within `deadlineMs`: true when it was delivered. None
 * running is fine (false); any other failure is logged with `failed` and is false too — every
 * signal sent this way is a hint its workflow can do without.
 */
export async function signalIfRunning<Args extends unknown[]>(
  ctx: Pick<RouteContext, 'temporal' | 'logger'>,
  workflowId: string,
  signal: SignalDefinition<Args>,
  args: Args,
  failed: string,
  deadlineMs = TEMPORAL_DEADLINE_MS,
): Promise<boolean> {
  try {
    await ctx.temporal.connection.withDeadline(Date.now() + deadlineMs, () =>
      ctx.temporal.client.workflow.getHandle(workflowId).signal(signal, ...args),
    );
    return true;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) ctx.logger.warn({ workflowId, err: error }, failed);
    return false;
  }
}

/**
 * Tells a rejected proposal's running open-PR run at once, so it starts no further side
 * effect. The run is the one the proposal's current `pr_open_error` names; none running is fine.
 * Best effort: the rejection is already committed, and a run that misses this signal still finds
 * it at its mark-opened step and undoes its PR.
 */
export async function signalRunRejected(
  ctx: Pick<RouteContext, 'temporal' | 'logger'>,
  proposalId: string,
  prOpenError: string | null,
): Promise<void> {
  await signalIfRunning(
    ctx,
    openPrWorkflowId(proposalId, prOpenError),
    proposalRejectedSignal,
    [],
    'could not tell the open-PR run of the rejection; its mark-opened step will find it',
  );
}

/**
 * Tells a proposal's merge-when-green wait that the proposal was rejected: it stops, and closes
 * the PR. Best effort like signalRunRejected: a wait that misses it refuses to merge a proposal
 * that is no longer pr_opened.
 */
export async function signalMergeRejected(
  ctx: Pick<RouteContext, 'temporal' | 'logger'>,
  proposalId: string,
  reason: string | null,
): Promise<void> {
  await signalIfRunning(
    ctx,
    mergeWorkflowId(proposalId),
    mergeRejectedSignal,
    [reason === null ? 'the proposal was rejected' : `rejected: ${reason}`],
    'could not tell the merge wait of the rejection; it will not merge',
  );
}

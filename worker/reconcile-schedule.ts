// The Temporal Schedule that runs the PR-state reconciliation (docs/architecture.md "PR lifecycle"). Every worker
// process ensures it at start: the first creates it, the others find it and bring its interval
// and task queue in line with their configuration (RELYLOOP_RECONCILE_INTERVAL). Overlapping runs
// are skipped, and a run missed while Temporal was down is caught up within one interval.
// Operators see it in the Web UI (Schedules) and with `temporal schedule list`/`describe`, and
// can trigger or pause it there.
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import {
  RECONCILE_SCHEDULE_ID,
  RECONCILE_SCHEDULED_WORKFLOW_ID,
  RECONCILE_WORKFLOW,
  type ReconcileInput,
} from '../domain/reconcile-contracts.js';
import type { Logger } from '../runtime/logger.js';

export interface ReconcileScheduleSettings {
  taskQueue: string;
  /** Milliseconds between runs. */
  intervalMs: number;
}

function scheduleOptions(
  settings: ReconcileScheduleSettings,
): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<() => Promise<unknown>>> {
  const input: ReconcileInput = {};
  return {
    spec: { intervals: [{ every: settings.intervalMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: RECONCILE_WORKFLOW,
      workflowId: RECONCILE_SCHEDULED_WORKFLOW_ID,
      taskQueue: settings.taskQueue,
      args: [input] as never,
      // A run reads every open PR once; far more than enough for thousands of PRs.
      workflowExecutionTimeout: '2 hours',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: settings.intervalMs, pauseOnFailure: false },
    state: {
      note: 'PR states of proposals still recorded open, read back from GitHub (docs/operations.md "Webhooks").',
    },
  };
}

/** Creates the schedule, or updates it when its interval or task queue differ. */
export async function ensureReconcileSchedule(
  client: Client,
  settings: ReconcileScheduleSettings,
  logger: Logger,
): Promise<'created' | 'updated' | 'unchanged'> {
  const options = scheduleOptions(settings);
  try {
    await client.schedule.create({ scheduleId: RECONCILE_SCHEDULE_ID, ...options });
    logger.info({ schedule: RECONCILE_SCHEDULE_ID, everyMs: settings.intervalMs }, 'reconciliation schedule created');
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
  const current = await handle.describe();
  const every = current.spec.intervals?.[0]?.every;
  const queue = current.action.type === 'startWorkflow' ? current.action.taskQueue : undefined;
  if (current.spec.intervals?.length === 1 && every === settings.intervalMs && queue === settings.taskQueue)
    return 'unchanged';
  await handle.update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }));
  logger.info({ schedule: RECONCILE_SCHEDULE_ID, everyMs: settings.intervalMs }, 'reconciliation schedule updated');
  return 'updated';
}

// Reads the benchmark's workflow histories (scripts/bench.ts): where one run's time goes, and how
// long the repo lock took to pass from one run to the next. Times are the server's event times.
import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;
const T = proto.temporal.api.enums.v1.EventType;

/** An event's time, epoch milliseconds (the server's clock). */
export const timeOf = (e: Event): number => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

async function eventsOf(client: Client, workflowId: string): Promise<{ events: Event[]; bytes: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return {
    events: history.events ?? [],
    bytes: proto.temporal.api.history.v1.History.encode(history).finish().byteLength,
  };
}

export interface Breakdown {
  /** First to last event. */
  total: number;
  /** Activities between started and closed. */
  activityRun: number;
  /** Activities between scheduled and started (queue wait). */
  activityQueue: number;
  /** Workflow tasks between scheduled and completed. */
  workflowTask: number;
  /** The part of workflowTask between scheduled and started (dispatch to the worker). */
  workflowTaskQueue: number;
  /** Per activity type: time waiting to start and running, summed over its attempts. */
  byActivity: Record<string, { queue: number; run: number }>;
  /** From the lock request's completion to the grant signal. */
  lockWait: number;
  activities: number;
  /** Marker events: local activities and version patches (`patched`). */
  markers: number;
  /** Each completed activity attempt: its type and when it started and completed. */
  completedAttempts: { name: string; started: number; completed: number }[];
  workflowTasks: number;
  events: number;
  historyBytes: number;
}

export async function historyBreakdown(client: Client, workflowId: string): Promise<Breakdown> {
  const { events, bytes } = await eventsOf(client, workflowId);
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const b: Breakdown = {
    total: 0,
    activityRun: 0,
    activityQueue: 0,
    workflowTask: 0,
    workflowTaskQueue: 0,
    byActivity: {},
    lockWait: 0,
    activities: 0,
    markers: 0,
    completedAttempts: [],
    workflowTasks: 0,
    events: events.length,
    historyBytes: bytes,
  };
  if (events.length > 0) b.total = timeOf(events[events.length - 1]!) - timeOf(events[0]!);
  let lockRequested: number | undefined;
  const activity = (scheduled: Event) => {
    const name = scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
    return (b.byActivity[name] ??= { queue: 0, run: 0 });
  };
  for (const e of events) {
    switch (e.eventType) {
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        b.activities += 1;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = byId.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (scheduled) {
          b.activityQueue += timeOf(e) - timeOf(scheduled);
          activity(scheduled).queue += timeOf(e) - timeOf(scheduled);
        }
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
        const started = byId.get(Number(attrs?.startedEventId));
        const scheduled = byId.get(Number(attrs?.scheduledEventId));
        if (started) b.activityRun += timeOf(e) - timeOf(started);
        if (started && scheduled) activity(scheduled).run += timeOf(e) - timeOf(started);
        const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name === 'requestRepoLock') lockRequested = timeOf(e);
        if (started && name && e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
          b.completedAttempts.push({ name, started: timeOf(started), completed: timeOf(e) });
        break;
      }
      case T.EVENT_TYPE_MARKER_RECORDED:
        b.markers += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const scheduled = byId.get(Number(e.workflowTaskCompletedEventAttributes?.scheduledEventId));
        const started = byId.get(Number(e.workflowTaskCompletedEventAttributes?.startedEventId));
        b.workflowTasks += 1;
        if (scheduled) b.workflowTask += timeOf(e) - timeOf(scheduled);
        if (scheduled && started) b.workflowTaskQueue += timeOf(started) - timeOf(scheduled);
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        if (e.workflowExecutionSignaledEventAttributes?.signalName === 'lockGranted' && lockRequested !== undefined)
          b.lockWait += timeOf(e) - lockRequested;
        break;
      default:
    }
  }
  return b;
}

/** The mean of several runs' breakdowns, field by field and step by step. */
export function meanBreakdown(breakdowns: Breakdown[]): Breakdown {
  const n = breakdowns.length;
  const mean = (f: (b: Breakdown) => number) => breakdowns.reduce((sum, b) => sum + f(b), 0) / n;
  const byActivity: Breakdown['byActivity'] = {};
  for (const b of breakdowns) {
    for (const [name, t] of Object.entries(b.byActivity)) {
      const sum = (byActivity[name] ??= { queue: 0, run: 0 });
      sum.queue += t.queue / n;
      sum.run += t.run / n;
    }
  }
  return {
    total: mean((b) => b.total),
    activityRun: mean((b) => b.activityRun),
    activityQueue: mean((b) => b.activityQueue),
    workflowTask: mean((b) => b.workflowTask),
    workflowTaskQueue: mean((b) => b.workflowTaskQueue),
    byActivity,
    lockWait: mean((b) => b.lockWait),
    activities: mean((b) => b.activities),
    markers: mean((b) => b.markers),
    completedAttempts: breakdowns.flatMap((b) => b.completedAttempts),
    workflowTasks: mean((b) => b.workflowTasks),
    events: mean((b) => b.events),
    historyBytes: mean((b) => b.historyBytes),
  };
}

/**
 * For runs that waited for their repo's lock: the time from the previous holder's release signal
 * (sent by its workflow) to this run's grant (received), in milliseconds.
 */
export async function lockHandOffs(client: Client, workflowIds: string[]): Promise<number[]> {
  const runs = await Promise.all(
    workflowIds.map(async (id) => {
      const { events } = await eventsOf(client, id);
      const release = events.find(
        (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'releaseLock',
      );
      const grant = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'lockGranted');
      return {
        lock: release?.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId,
        started: events[0] ? timeOf(events[0]) : NaN,
        granted: grant ? timeOf(grant) : NaN,
        released: release ? timeOf(release) : NaN,
      };
    }),
  );
  const handOffs: number[] = [];
  for (const run of runs) {
    const previous = runs
      .filter((r) => r !== run && r.lock === run.lock && r.released <= run.granted)
      .map((r) => r.released);
    const last = Math.max(...previous);
    if (previous.length > 0 && run.started < last) handOffs.push(run.granted - last);
  }
  return handOffs;
}

/** The requests a step sends, told apart from a step beside it by what they ask for. */
const STEP_REQUESTS: Record<string, RegExp> = {
  syncRepoCache: /git-upload-pack/,
  pushBranch: /git-receive-pack/,
  openPullRequest: /\/pulls$/,
  commentChart: /\/comments$/,
};

export interface StepSplit {
  /** From the attempt's start (the server's event) to its first request reaching the forge. */
  beforeFirst: number;
  /** From the first request's arrival to the last one's answer (its arrival, for git). */
  inRequests: number;
  /** From the last answer to the attempt's completion. */
  afterLast: number;
}

/**
 * For the steps that talk to the forge: where an attempt's time goes, in the worker before its
 * first request, in its requests, and after the last answer — the mean over `attempts` (a
 * Breakdown's). `requests` is the sandbox's log (its clock and the server's are this machine's).
 */
export function forgeStepSplits(
  attempts: Breakdown['completedAttempts'],
  requests: { path: string; query: Record<string, string>; receivedAt: number; answeredAt?: number }[],
): Record<string, StepSplit> {
  const sums: Record<string, StepSplit & { n: number }> = {};
  for (const { name, started, completed } of attempts) {
    const asks = STEP_REQUESTS[name];
    if (asks === undefined) continue;
    const mine = requests.filter(
      (r) =>
        r.receivedAt >= started - 1 &&
        r.receivedAt <= completed + 1 &&
        (asks.test(r.path) || asks.test(r.query.service ?? '')),
    );
    if (mine.length === 0) continue;
    const last = mine[mine.length - 1]!;
    const s = (sums[name] ??= { beforeFirst: 0, inRequests: 0, afterLast: 0, n: 0 });
    s.beforeFirst += mine[0]!.receivedAt - started;
    s.inRequests += (last.answeredAt ?? last.receivedAt) - mine[0]!.receivedAt;
    s.afterLast += completed - (last.answeredAt ?? last.receivedAt);
    s.n += 1;
  }
  return Object.fromEntries(
    Object.entries(sums).map(([name, { n, ...s }]) => [
      name,
      { beforeFirst: s.beforeFirst / n, inRequests: s.inRequests / n, afterLast: s.afterLast / n },
    ]),
  );
}

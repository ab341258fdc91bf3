// The state of a proposal's latest openPrWorkflow run for GET /proposals/{id}/open_pr (docs/api.md):
// status, current step, and per step its status, attempts and last (redacted) failure. Step
// status comes from the workflow's `progress` query; attempts and failures from the run's history
// and its pending activities, which also works while no worker is up to answer the query.
import type { WorkflowHandle } from '@temporalio/client';
// @temporalio/proto is CommonJS: Node's ESM loader cannot see its named exports.
import proto, { type temporal } from '@temporalio/proto';
import {
  OPEN_PR_STEPS,
  progressQuery,
  stepOfActivity,
  type OpenPrProgress,
  type OpenPrStep,
  type StepStatus,
} from '../domain/open-pr-contracts.js';
import { redactTokens } from '../domain/redact.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';

type EventType = temporal.api.enums.v1.EventType;
const E = proto.temporal.api.enums.v1.EventType;

export interface StepView {
  step: OpenPrStep;
  status: StepStatus;
  attempts: number;
  last_failure: string | null;
  note: string | null;
}

export interface OpenPrRunView {
  proposal_id: string;
  workflow_id: string;
  run_id: string;
  status: string;
  current_step: OpenPrStep | null;
  steps: StepView[];
  result: unknown;
  failure: { type: string; message: string } | null;
  started_at: string | null;
  closed_at: string | null;
  web_ui_url: string;
}

interface StepHistory {
  attempts: number;
  lastFailure: string | null;
  completed: boolean;
  failed: boolean;
  cancelled: boolean;
  started: boolean;
}

const emptyStepHistory = (): StepHistory => ({
  attempts: 0,
  lastFailure: null,
  completed: false,
  failed: false,
  cancelled: false,
  started: false,
});

/** Innermost type and message of a history failure. */
function innermost(
  failure: temporal.api.failure.v1.IFailure | null | undefined,
): { type: string; message: string } | null {
  let f = failure;
  if (!f) return null;
  while (f.cause) f = f.cause;
  return {
    type: f.applicationFailureInfo?.type ?? (f.timeoutFailureInfo ? 'TIMEOUT' : 'Error'),
    message: redactTokens(f.message ?? ''),
  };
}

const redactOrNull = (text: string | undefined) => (text === undefined ? null : redactTokens(text));

function readHistory(events: temporal.api.history.v1.IHistoryEvent[]) {
  const byScheduled = new Map<string, OpenPrStep>();
  const steps = new Map<OpenPrStep, StepHistory>();
  const entry = (step: OpenPrStep) => {
    let e = steps.get(step);
    if (!e) steps.set(step, (e = emptyStepHistory()));
    return e;
  };
  let workflowFailure: ReturnType<typeof innermost> = null;
  for (const ev of events) {
    const id = String(ev.eventId ?? '');
    const type = ev.eventType as EventType;
    if (type === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const step = stepOfActivity(ev.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      if (step) byScheduled.set(id, step);
      continue;
    }
    const attrs =
      ev.activityTaskStartedEventAttributes ??
      ev.activityTaskCompletedEventAttributes ??
      ev.activityTaskFailedEventAttributes ??
      ev.activityTaskTimedOutEventAttributes ??
      ev.activityTaskCanceledEventAttributes;
    const step = attrs ? byScheduled.get(String(attrs.scheduledEventId ?? '')) : undefined;
    if (step) {
      const e = entry(step);
      if (ev.activityTaskStartedEventAttributes) {
        e.started = true;
        e.attempts += ev.activityTaskStartedEventAttributes.attempt ?? 1;
      }
      if (ev.activityTaskCompletedEventAttributes) e.completed = true;
      if (ev.activityTaskCanceledEventAttributes) e.cancelled = true;
      const failure = ev.activityTaskFailedEventAttributes?.failure ?? ev.activityTaskTimedOutEventAttributes?.failure;
      if (failure) {
        e.failed = true;
        const f = innermost(failure);
        e.lastFailure = f && `${f.type}: ${f.message}`;
      }
    }
    if (ev.workflowExecutionFailedEventAttributes)
      workflowFailure = innermost(ev.workflowExecutionFailedEventAttributes.failure);
  }
  return { steps, workflowFailure };
}

async function tryProgress(
  handle: WorkflowHandle,
  temporalHandle: TemporalHandle,
): Promise<OpenPrProgress | undefined> {
  try {
    // A query needs a worker; do not let a missing one stall the request.
    return await temporalHandle.connection.withDeadline(Date.now() + 2_000, () => handle.query(progressQuery));
  } catch {
    return undefined;
  }
}

/**
 * The newest run that decided something: a run that found the proposal no longer pending and did
 * nothing (e.g. a completed run reset, or a POST racing a finished run) is passed over for the
 * older run that opened, failed or is still working.
 */
async function decidingRun<T extends { workflowId: string; runId: string; status: string }>(
  temporalHandle: TemporalHandle,
  runs: T[],
): Promise<T | undefined> {
  for (const [index, run] of runs.entries()) {
    if (run.status !== 'COMPLETED' || index === runs.length - 1) return run;
    const result = (await temporalHandle.client.workflow
      .getHandle(run.workflowId, run.runId)
      .result()
      .catch(() => null)) as { outcome?: string } | null;
    if (result?.outcome !== 'not_pending') return run;
  }
  return undefined; // no runs at all
}

export async function describeLatestOpenPrRun(
  temporalHandle: TemporalHandle,
  proposalId: string,
  uiUrl: string,
): Promise<OpenPrRunView | undefined> {
  const { client, namespace } = temporalHandle;
  const runs: { workflowId: string; runId: string; startTime: Date; status: string }[] = [];
  for await (const wf of client.workflow.list({
    query: `ProposalId = '${proposalId}' AND WorkflowType = 'openPrWorkflow'`,
    pageSize: 20,
  })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, startTime: wf.startTime, status: wf.status.name });
  }
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  const latest = await decidingRun(temporalHandle, runs);
  if (!latest) return undefined;
  const handle = client.workflow.getHandle(latest.workflowId, latest.runId);
  const [description, history, progress] = await Promise.all([
    handle.describe(),
    handle.fetchHistory(),
    tryProgress(handle, temporalHandle),
  ]);
  const { steps, workflowFailure } = readHistory(history.events ?? []);

  for (const pending of description.raw.pendingActivities ?? []) {
    const step = stepOfActivity(pending.activityType?.name ?? '');
    if (!step) continue;
    const e = steps.get(step) ?? emptyStepHistory();
    e.attempts = Math.max(e.attempts, pending.attempt ?? 0);
    const f = innermost(pending.lastFailure);
    if (f) e.lastFailure = `${f.type}: ${f.message}`;
    steps.set(step, e);
  }

  const status = description.status.name.toLowerCase();
  let result: unknown = null;
  if (status === 'completed') result = await handle.result().catch(() => null);
  return {
    proposal_id: proposalId,
    workflow_id: latest.workflowId,
    run_id: latest.runId,
    status,
    current_step: progress?.currentStep ?? null,
    steps: OPEN_PR_STEPS.map((step) => {
      const h = steps.get(step);
      const p = progress?.steps.find((s) => s.step === step);
      const derived: StepStatus = h?.completed
        ? 'completed'
        : h?.cancelled
          ? 'cancelled'
          : h?.failed
            ? 'failed'
            : h?.started
              ? 'running'
              : 'pending';
      return {
        step,
        status: p?.status ?? derived,
        // History has a step's last attempt; the run's own count also knows attempts that failed
        // before a cancellation (activities/attempt-reports.ts).
        attempts: Math.max(h?.attempts ?? 0, p?.failedAttempts ?? 0),
        last_failure: h?.lastFailure ?? redactOrNull(p?.failure ?? p?.lastAttemptFailure),
        note: redactOrNull(p?.note),
      };
    }),
    result,
    failure: workflowFailure,
    started_at: description.startTime.toISOString(),
    closed_at: description.closeTime?.toISOString() ?? null,
    web_ui_url: `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(latest.workflowId)}/${latest.runId}/history`,
  };
}

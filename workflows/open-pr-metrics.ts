// The open-PR workflow's own metrics (issue 10), through the Temporal SDK's metric meter: a worker
// started with RELYLOOP_WORKER_METRICS_ADDRESS serves them next to the SDK's (docs/operations.md
// "Metrics"). The SDK drops them while a workflow replays, so each is counted once per run.
import { metricMeter } from '@temporalio/workflow';
import type { OpenPrStep } from '../domain/open-pr-contracts.js';

export type RunOutcome = 'opened' | 'not_pending' | 'rejected_meanwhile' | 'failed' | 'cancelled';

/** A run ended: `code` is the error code for a failed run, `none` otherwise. */
export function countRun(outcome: RunOutcome, code = 'none'): void {
  metricMeter.createCounter('relyloop_open_pr_runs', 'runs', 'Open-PR runs that ended, by outcome and error code.').add(1, { outcome, code });
}

/** A step ended (completed, failed or cancelled) after `seconds`; skipped steps are not recorded. */
export function recordStep(step: OpenPrStep, status: string, seconds: number): void {
  metricMeter.createHistogram('relyloop_open_pr_step_duration', 'float', 'seconds', 'Wall time of an open-PR step, by step and status.')
    .record(seconds, { step, status });
}

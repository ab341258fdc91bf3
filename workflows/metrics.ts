// The workflows' metrics (docs/operations.md "Metrics"), through the worker's metric
// sinks (domain/metric-sinks.ts): not called while a workflow replays, so a replay counts nothing.
// Runs that opened a PR or failed are counted by the activity that wrote the proposal row.
import { proxySinks } from '@temporalio/workflow';
import type { MetricSinks, StepEndStatus, WorkflowRunOutcome } from '../domain/metric-sinks.js';
import type { OpenPrOutcome, OpenPrStep } from '../domain/open-pr-contracts.js';

const { metrics } = proxySinks<MetricSinks>();
export { metrics as metricSinks };

/** A run ended; `opened` is counted by the mark-opened write itself, so it is not reported here. */
export function countRun(outcome: OpenPrOutcome['outcome'] | WorkflowRunOutcome): void {
  if (outcome !== 'opened') metrics.runEnded(outcome);
}

/** A step ended (completed, failed or cancelled) after `seconds`; skipped steps are not recorded. */
export function recordStep(step: OpenPrStep, status: StepEndStatus, seconds: number): void {
  metrics.stepEnded(step, status, seconds);
}

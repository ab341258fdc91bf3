// What workflow code reports for the worker's metrics (docs/operations.md "Metrics"). Workflows
// cannot hold a metrics registry; they call these sinks, which the worker runs outside the
// sandbox and never while a workflow replays its history (a replay counts nothing twice).
import type { Sinks } from '@temporalio/workflow';
import type { OpenPrStep } from './open-pr-contracts.js';

/**
 * How an open-PR run ended. `opened` and `failed` are counted where the proposal row changes
 * (the mark-opened write that moved it to pr_opened, the failure record), so a reset run that
 * re-executes a run's last task cannot count them again; the workflow reports the others.
 */
export type RunOutcome = 'opened' | 'not_pending' | 'rejected_meanwhile' | 'failed' | 'cancelled';
export type WorkflowRunOutcome = Exclude<RunOutcome, 'opened' | 'failed'>;

export type StepEndStatus = 'completed' | 'failed' | 'cancelled';

export interface ReconcileReport {
  scope: 'scheduled' | 'repo' | 'pr';
  outcome: 'ok' | 'partial';
  read: number;
  notModified: number;
  corrected: number;
  skipped: number;
}

export interface MetricSinks extends Sinks {
  metrics: {
    runEnded(outcome: WorkflowRunOutcome): void;
    stepEnded(step: OpenPrStep, status: StepEndStatus, seconds: number): void;
    reconciled(report: ReconcileReport): void;
  };
}

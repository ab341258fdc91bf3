// The metrics of a worker process (docs/operations.md "Metrics"), in one prom-client registry
// served next to the Temporal SDK's own (worker/metrics-endpoint.ts). Labels are snake_case and
// never name a process; every series an alert reads exists from the start at 0, so `increase()`
// sees the first failure too.
import { Counter, Histogram, Registry } from 'prom-client';
import { RUN_FAILURE_CODES } from '../domain/errors.js';
import type { ReconcileReport, RunOutcome, StepEndStatus } from '../domain/metric-sinks.js';
import { OPEN_PR_STEPS, type OpenPrStep } from '../domain/open-pr-contracts.js';
import { registerRedactionCounter } from './redaction-metric.js';
import type { RedactionCounts } from '../domain/redact.js';

/**
 * Step durations in seconds, from a quick database step to the waits the alerts name: a lock
 * wait over 10 minutes must land in a bucket of its own.
 */
export const STEP_DURATION_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
];

export interface WorkerMetrics {
  registry: Registry;
  runEnded(outcome: RunOutcome, code?: string): void;
  stepEnded(step: OpenPrStep, status: StepEndStatus, seconds: number): void;
  /** An activity attempt after the first. */
  activityRetried(activity: string): void;
  /** A GitHub rate limit handed to Temporal as the next retry's delay. */
  rateLimitWaited(activity: string): void;
  reconciled(report: ReconcileReport): void;
  /** Series at 0 for these activity types (the worker's registered activities). */
  knowActivities(names: readonly string[]): void;
}

export function createWorkerMetrics(redactionCounts: RedactionCounts = { token_pattern: 0, secret: 0 }): WorkerMetrics {
  const registry = new Registry();
  const runs = new Counter({
    name: 'relyloop_open_pr_runs_total',
    help: 'Open-PR runs that ended, by outcome and error code (code is none unless outcome is failed).',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
  });
  for (const outcome of ['opened', 'not_pending', 'rejected_meanwhile', 'cancelled'] as const)
    runs.inc({ outcome, code: 'none' }, 0);
  for (const code of RUN_FAILURE_CODES) runs.inc({ outcome: 'failed', code }, 0);
  const steps = new Histogram({
    name: 'relyloop_open_pr_step_duration_seconds',
    help: 'Wall time of an open-PR step, by step and status; step="lock" is the wait for the repo lock.',
    labelNames: ['step', 'status'] as const,
    buckets: STEP_DURATION_BUCKETS,
    registers: [registry],
  });
  for (const step of OPEN_PR_STEPS) steps.zero({ step, status: 'completed' });
  const retries = new Counter({
    name: 'relyloop_activity_retries_total',
    help: 'Activity attempts after the first, by activity type.',
    labelNames: ['activity'] as const,
    registers: [registry],
  });
  const rateLimitWaits = new Counter({
    name: 'relyloop_github_rate_limit_waits_total',
    help: 'GitHub rate limits waited out through Temporal (nextRetryDelay), by activity type.',
    labelNames: ['activity'] as const,
    registers: [registry],
  });
  const reconcileRuns = new Counter({
    name: 'relyloop_reconcile_runs_total',
    help: 'Reconciliation runs that ended, by scope (scheduled: every repo; repo; pr) and outcome (partial: a repo failed).',
    labelNames: ['scope', 'outcome'] as const,
    registers: [registry],
  });
  for (const scope of ['scheduled', 'repo', 'pr'])
    for (const outcome of ['ok', 'partial']) reconcileRuns.inc({ scope, outcome }, 0);
  const checked = new Counter({
    name: 'relyloop_reconcile_checked_total',
    help: 'PRs a reconciliation read back from GitHub (recorded open, or closed within the window), by answer (read, or not_modified: a 304).',
    labelNames: ['answer'] as const,
    registers: [registry],
  });
  for (const answer of ['read', 'not_modified']) checked.inc({ answer }, 0);
  const corrections = new Counter({
    name: 'relyloop_reconcile_corrections_total',
    help: 'Proposals whose pr_state a reconciliation corrected (a webhook was missed).',
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'relyloop_reconcile_skipped_total',
    help: 'PRs recorded closed for longer than RELYLOOP_RECONCILE_CLOSED_WINDOW, which a reconciliation no longer reads back.',
    registers: [registry],
  });
  registerRedactionCounter(registry, redactionCounts);

  return {
    registry,
    runEnded: (outcome, code = 'none') => runs.inc({ outcome, code }),
    stepEnded: (step, status, seconds) => steps.observe({ step, status }, seconds),
    activityRetried: (activity) => retries.inc({ activity }),
    rateLimitWaited: (activity) => rateLimitWaits.inc({ activity }),
    reconciled(report) {
      reconcileRuns.inc({ scope: report.scope, outcome: report.outcome });
      checked.inc({ answer: 'read' }, report.read);
      checked.inc({ answer: 'not_modified' }, report.notModified);
      corrections.inc(report.corrected);
      skipped.inc(report.skipped);
    },
    knowActivities(names) {
      for (const activity of names) {
        retries.inc({ activity }, 0);
        rateLimitWaits.inc({ activity }, 0);
      }
    },
  };
}

// Names shared by the reconciliation workflow, its Temporal Schedule, the worker that ensures the
// schedule and the API route that starts a run for one config repo (docs/architecture.md "PR lifecycle").
export const RECONCILE_WORKFLOW = 'reconcilePrStatesWorkflow';

/** The schedule (`temporal schedule list`, Web UI → Schedules) that runs the reconciliation. */
export const RECONCILE_SCHEDULE_ID = 'relyloop-reconcile-pr-states';

/** Workflow id of the scheduled runs (the schedule appends the start time). */
export const RECONCILE_SCHEDULED_WORKFLOW_ID = 'reconcile-pr-states';

export interface ReconcileInput {
  /** One config repo (an operator's request); absent: every repo with a PR whose state may change. */
  configRepoId?: string;
  /** With configRepoId: only this proposal's PR (a webhook that could not be ordered). */
  proposalId?: string;
}

/** What one repo's reconciliation found (reported per repo). */
export interface ReconcileRepoCounts {
  configRepoId: string;
  /** PRs read back: recorded open, or closed within the window. */
  checked: number;
  /** Reads GitHub answered 304 (unchanged since the last read: no primary rate limit spent). */
  unchanged: number;
  corrected: number;
  missing: number;
  /** PRs recorded closed for longer than the window: not read. */
  skipped: number;
}

export interface ReconcileSummary {
  repos: number;
  checked: number;
  unchanged: number;
  corrected: number;
  missing: number;
  skipped: number;
  /** Each repo that was reconciled, with its counts. */
  perRepo: ReconcileRepoCounts[];
  /** Repos whose reconciliation failed (logged with the cause); the next run tries them again. */
  failedRepos: string[];
  /** Webhook deliveries older than the retention dropped by this run (scheduled runs only). */
  prunedDeliveries: number;
}

/**
 * The read-back of one proposal's PR that a webhook delivery asked for because it could not be
 * ordered against the recorded fact: one per delivery (a redelivery attaches to it).
 */
export function reconcilePrWorkflowId(proposalId: string, deliveryId: string): string {
  return `reconcile-pr-${proposalId}-${deliveryId}`;
}

/** One run per config repo at a time: a second request while one runs attaches to it. */
export function reconcileRepoWorkflowId(configRepoId: string): string {
  return `reconcile-pr-states-${configRepoId}`;
}

// Contract of `openPrWorkflow` (SPEC §2, §5): its id, input, result, steps and progress query.
// Shared by the API (start, status), the workflow and the worker; no I/O here.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const OPEN_PR_WORKFLOW = 'openPrWorkflow';

/** The 15 steps of SPEC §5, in order; `OpenPrStep` search attribute values. */
export const OPEN_PR_STEPS = [
  'load', 'lock', 'recheck', 'claim', 'sync', 'branch_check', 'path_check', 'apply_diff',
  'render_chart', 'commit', 'push', 'open_pr', 'comment', 'mark_opened', 'release',
] as const;
export type OpenPrStep = (typeof OPEN_PR_STEPS)[number];

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface StepProgress {
  step: OpenPrStep;
  status: StepStatus;
  /** Workflow time (ms) the step started and ended. */
  startedAt?: number;
  endedAt?: number;
  /** Redacted failure (ApplicationFailure type and message) when the step failed. */
  failure?: string;
  /** Short note, e.g. "adopted existing PR #12" or "chart failed: …". */
  note?: string;
  /**
   * Attempts that failed and were to be retried, and the latest such failure, as the activities
   * report them (attemptFailedSignal). History records only a step's last attempt, and nothing at
   * all for a step cancelled while it waited to retry.
   */
  failedAttempts?: number;
  lastAttemptFailure?: string;
}

export interface OpenPrProgress {
  currentStep: OpenPrStep | null;
  steps: StepProgress[];
  /** Times the git steps were (re)started on a claimed worker. */
  gitWorkerClaims: number;
}

export const progressQuery = defineQuery<OpenPrProgress>('progress');

/** Activity → its run: this attempt failed and will be retried. */
export interface AttemptFailed {
  /** Activity type (a key of ACTIVITY_STEPS). */
  activity: string;
  attempt: number;
  /** Redacted `TYPE: message`. */
  failure: string;
}
export const attemptFailedSignal = defineSignal<[AttemptFailed]>('attemptFailed');

export interface OpenPrInput {
  proposalId: string;
}

/**
 * Timeouts and retry budgets of one run (issue 8; docs/operations.md). They come from the
 * configuration of the worker that runs `load`, which returns them, so they are recorded in the
 * run's history and a replay uses the same values.
 */
export interface OpenPrPolicy {
  /** Every activity heartbeats; an attempt silent this long is retried (its worker died). */
  heartbeatTimeoutMs: number;
  /** A git step not picked up by its claimed worker within this long: the worker is lost. */
  gitWorkerStartTimeoutMs: number;
  /** PostgreSQL's per-statement timeout; database steps get a start-to-close above it. */
  dbStatementTimeoutMs: number;
  /** Wall time each kind of step keeps retrying transient failures before the run fails. */
  gitRetryBudgetMs: number;
  githubRetryBudgetMs: number;
  dbRetryBudgetMs: number;
}

/** The defaults of docs/configuration.md; also what `load` itself runs with. */
export const DEFAULT_OPEN_PR_POLICY: OpenPrPolicy = {
  heartbeatTimeoutMs: 10_000,
  gitWorkerStartTimeoutMs: 10_000,
  dbStatementTimeoutMs: 5_000,
  gitRetryBudgetMs: 5 * 60_000,
  githubRetryBudgetMs: 10 * 60_000,
  dbRetryBudgetMs: 5 * 60_000,
};

export type OpenPrOutcome =
  | { outcome: 'opened'; prUrl: string; prNumber: number; branch: string; adoptedPr: boolean }
  /** The proposal was not pending when the run started or got the lock. */
  | { outcome: 'not_pending'; status: string }
  /** Rejected while the PR was being opened: the PR was closed and the branch deleted. */
  | { outcome: 'rejected_meanwhile'; closedPr?: number };

/** Which step each activity type implements (for per-step attempts read from history). */
export const ACTIVITY_STEPS: Readonly<Record<string, OpenPrStep>> = {
  loadProposal: 'load', requestRepoLock: 'lock', isProposalPending: 'recheck', claimGitWorker: 'claim',
  syncRepoCache: 'sync', checkBranch: 'branch_check', readParamsFile: 'path_check', applyConfigDiff: 'apply_diff',
  renderChart: 'render_chart', commitChange: 'commit', pushBranch: 'push', openPullRequest: 'open_pr',
  commentChart: 'comment', markProposalOpened: 'mark_opened',
};

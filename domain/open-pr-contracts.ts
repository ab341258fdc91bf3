// Contract of `openPrWorkflow` (docs/architecture.md "The open-PR workflow"): its id, input,
// result, steps and progress query. Shared by the API (start, status), the workflow and the worker;
// no I/O here.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const OPEN_PR_WORKFLOW = 'openPrWorkflow';

/**
 * The 15 steps of docs/architecture.md "The open-PR workflow", in order: each step, the activity
 * that performs it (a key of the activity interfaces in activities/types.ts, which check it at
 * compile time; `release` is workflow code), and the label its summary carries in the Web UI.
 * Numbering, summaries, the progress query, the status view and the tests all derive from this
 * table.
 */
export const OPEN_PR_STEP_TABLE = [
  { step: 'load', activity: 'loadProposal', label: 'load proposal, cluster, template, config repo, study' },
  { step: 'lock', activity: 'requestRepoLock', label: 'request the repo lock' },
  { step: 'recheck', activity: 'isProposalPending', label: 'recheck the proposal is still pending' },
  { step: 'claim', activity: 'claimGitWorker', label: 'claim a worker for the git steps' },
  { step: 'sync', activity: 'syncRepoCache', label: 'sync the repo cache' },
  { step: 'branch_check', activity: 'checkBranch', label: 'check the branch is free on the remote' },
  { step: 'path_check', activity: 'readParamsFile', label: 'check the params file' },
  { step: 'apply_diff', activity: 'applyConfigDiff', label: 'apply the parameter changes' },
  { step: 'render_chart', activity: 'renderChart', label: 'render the parameter-importance chart' },
  { step: 'commit', activity: 'commitChange', label: 'commit' },
  { step: 'push', activity: 'pushBranch', label: 'push the branch (create only)' },
  { step: 'open_pr', activity: 'openPullRequest', label: 'open the PR' },
  { step: 'comment', activity: 'commentChart', label: 'comment the chart' },
  { step: 'mark_opened', activity: 'markProposalOpened', label: 'mark the proposal pr_opened (only if still pending)' },
  { step: 'release', activity: null, label: 'release the repo lock' },
] as const;

export type OpenPrStep = (typeof OPEN_PR_STEP_TABLE)[number]['step'];
/** The activity types that perform a step. */
export type StepActivity = NonNullable<(typeof OPEN_PR_STEP_TABLE)[number]['activity']>;

/** The step names in order (a non-empty tuple, as schema enums want). */
export const OPEN_PR_STEPS = OPEN_PR_STEP_TABLE.map((row) => row.step) as unknown as readonly [
  OpenPrStep,
  ...OpenPrStep[],
];

const STEP_OF_ACTIVITY: ReadonlyMap<string, OpenPrStep> = new Map(
  OPEN_PR_STEP_TABLE.flatMap((row) => (row.activity === null ? [] : [[row.activity, row.step] as const])),
);

/** The step an activity type performs (undefined for activities outside the table, e.g. compensation). */
export function stepOfActivity(activityType: string): OpenPrStep | undefined {
  return STEP_OF_ACTIVITY.get(activityType);
}

/** 1-based position of a step. */
export function stepNumber(step: OpenPrStep): number {
  return OPEN_PR_STEP_TABLE.findIndex((row) => row.step === step) + 1;
}

/** "12/15 open the PR: relyloop/study-… → main", the summary an activity shows in the Web UI. */
export function stepSummary(step: OpenPrStep, detail?: string): string {
  const row = OPEN_PR_STEP_TABLE[stepNumber(step) - 1] as (typeof OPEN_PR_STEP_TABLE)[number];
  return `${stepNumber(step)}/${OPEN_PR_STEP_TABLE.length} ${row.label}${detail === undefined ? '' : `: ${detail}`}`;
}

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
  /** Activity type (see stepOfActivity). */
  activity: string;
  attempt: number;
  /** Redacted `TYPE: message`. */
  failure: string;
}
export const attemptFailedSignal = defineSignal<[AttemptFailed]>('attemptFailed');

/**
 * API → its run: the proposal was rejected. The run starts no further side effect: it
 * stops the git steps in flight and undoes what it already pushed or opened.
 */
export const proposalRejectedSignal = defineSignal('proposalRejected');

export interface OpenPrInput {
  proposalId: string;
}

/**
 * Timeouts and retry budgets of one run (docs/operations.md). They come from the
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
  /** Merge when green: how long the checks may take, and how often they are read back without a webhook. */
  mergeChecksTimeoutMs?: number;
  mergeReadBackMs?: number;
}

/** The defaults of docs/configuration.md; also what `load` itself runs with. */
export const DEFAULT_OPEN_PR_POLICY: OpenPrPolicy = {
  heartbeatTimeoutMs: 10_000,
  gitWorkerStartTimeoutMs: 10_000,
  dbStatementTimeoutMs: 5_000,
  gitRetryBudgetMs: 5 * 60_000,
  githubRetryBudgetMs: 10 * 60_000,
  dbRetryBudgetMs: 5 * 60_000,
  mergeChecksTimeoutMs: 3 * 24 * 3600_000,
  mergeReadBackMs: 5 * 60_000,
};

/** What superseding older PRs did (docs/architecture.md "PR lifecycle"). */
export interface SupersedeResult {
  /** Older proposals now `superseded`: their PR closed, its branch deleted when it held only our commit. */
  superseded: { proposalId: string; prNumber: number; branchDeleted: boolean; warnings?: string[] }[];
  /** Older PRs left as they are, and why (merged meanwhile, the forge refused). */
  leftAlone: { proposalId: string; prNumber: number; reason: string }[];
}

export type OpenPrOutcome =
  | {
      outcome: 'opened';
      prUrl: string;
      prNumber: number;
      branch: string;
      adoptedPr: boolean;
      /** With the repo's `supersede` option: the older PRs this one replaced, or why that failed. */
      supersede?: SupersedeResult | { failed: string };
      /** With the repo's `merge` option: the workflow that merges the PR once its checks pass. */
      merge?: { workflowId: string } | { failed: string };
    }
  /** The proposal was not pending when the run started or got the lock. */
  | { outcome: 'not_pending'; status: string }
  /** Rejected while the PR was being opened: the PR was closed and the branch deleted. */
  | { outcome: 'rejected_meanwhile'; closedPr?: number };

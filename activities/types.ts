// The activity surface of openPrWorkflow (docs/architecture.md "The open-PR workflow"), as the
// workflow sees it (`import type` only). Shared activities run on the shared task queue; git
// activities run on the worker-specific queue the workflow claims, because they share that worker's
// local repo cache and chart files.
import type { MergeMethod, PrOptions } from '../domain/pr-options.js';
import type { GitHubMergeMode, MergeAttempt, MergeStatus } from '../adapters/github/merge-client.js';
import type { MergeState } from '../domain/merge-contracts.js';
import type { Provider } from '../domain/github-url.js';
import type { MarkOpenedOutcome, RecordFailureOutcome } from '../db/proposals.js';
import type { LockFence } from '../domain/lock-contracts.js';
import type { OpenPrPolicy, StepActivity, SupersedeResult } from '../domain/open-pr-contracts.js';
import type { PreviewPullRequest } from '../domain/preview-contracts.js';
import type { CommitDescription } from '../domain/commit-message.js';
import type { MetricDelta } from '../domain/metric-delta.js';
import type { StudySummary } from '../domain/pr-body.js';
import type { ConfigDiff, ParamChange } from '../domain/params-diff.js';

export type { MarkOpenedOutcome, RecordFailureOutcome, SupersedeResult };

export interface ConfigRepoRef {
  configRepoId: string;
  /** The forge. */
  provider: Provider;
  repoUrl: string;
  /** Name of the secret file holding the token; the token itself never leaves the activity. Null with `app`. */
  authRef: string | null;
  /** GitHub App auth instead of a token file: the key is read, the token minted, in the activity. */
  app?: { appId: number; privateKeyRef: string; installationId: number | null };
  baseBranch: string;
  /** How the PR lands. */
  prOptions: PrOptions;
}

export interface StudyContext {
  id: string;
  name: string;
  metric: string;
  baselineMetric: number | null;
  bestMetric: number | null;
  parameterImportance: Record<string, number> | null;
  suggestedFollowups: string[];
}

/** Step 12's input: what the PR's title and body need, not the whole proposal. */
export interface OpenPullRequestInput {
  repo: ConfigRepoRef;
  proposalId: string;
  branch: string;
  /** Null for a manual proposal. */
  study: StudySummary | null;
  changes: ParamChange[];
  chartRendered: boolean;
  fence?: LockFence;
}

/** Step 13's input (only called for a study-backed proposal). */
export interface CommentChartInput {
  repo: ConfigRepoRef;
  proposalId: string;
  studyId: string;
  prNumber: number;
  branch: string;
  /**
   * The run (Temporal run id) whose open_pr attempt created the PR, as that step answered it;
   * absent when the PR was adopted. The first attempt of the comment step in that same run posts
   * without first listing the PR's comments: none of ours can be there yet.
   */
  prCreatedInRun?: string;
  fence?: LockFence;
}

/** Step 10's input: the change, and what the commit message says of the proposal. */
export interface CommitChangeInput {
  repo: ConfigRepoRef;
  baseCommit: string;
  change: PreparedChange;
  describe: CommitDescription;
  chartPath?: string;
}

export interface SupersedeInput {
  repo: ConfigRepoRef;
  /** The proposal whose PR just opened. */
  proposalId: string;
  clusterId: string;
  paramsPath: string;
  pr: { number: number; url: string };
  fence?: LockFence;
}

export interface ProposalContext {
  proposalId: string;
  status: string;
  clusterId: string;
  clusterName: string;
  templateName: string;
  declaredParams: string[];
  configPath: string;
  repo: ConfigRepoRef;
  study: StudyContext | null;
  configDiff: ConfigDiff;
  /** Stored with a study-backed proposal; null for a manual one. */
  metricDelta: MetricDelta | null;
}

export interface PreparedChange {
  paramsPath: string;
  newText: string;
  /** Per key: old file value, new value, drift (a `from` that differed from the file). */
  changes: ParamChange[];
}

export type ChartOutcome = { ok: true; chartPath: string } | { ok: false; reason: string };

/** The preview's forge read: the PR as it would be sent, and what its options and supersede would meet. */
export interface PreviewPullRequestInput {
  repo: ConfigRepoRef;
  proposalId: string;
  clusterId: string;
  study: StudySummary | null;
  changes: ParamChange[];
  chartRendered: boolean;
  paramsPath: string;
  /** The params file on the base commit and after the change. */
  before: string;
  after: string;
}

/** Merge when green (activities/forge/merge-activities.ts), GitHub only. */
export interface MergeActivities {
  startGitHubMerge(input: { repo: ConfigRepoRef; prNumber: number; method: MergeMethod }): Promise<GitHubMergeMode>;
  stopGitHubMerge(input: { repo: ConfigRepoRef; prNumber: number; mode: 'auto_merge' | 'queued' }): Promise<void>;
  readMergeStatus(input: { repo: ConfigRepoRef; prNumber: number }): Promise<MergeStatus>;
  mergeAtHead(input: {
    repo: ConfigRepoRef;
    proposalId: string;
    prNumber: number;
    sha: string;
    method: MergeMethod;
  }): Promise<MergeAttempt>;
  recordMergeState(input: { proposalId: string; state: MergeState; note: string | null }): Promise<void>;
}

export interface SharedActivities extends ReconcileActivities, MergeActivities {
  /** Step 1: the proposal's context and this worker's run policy, or why there is nothing to do. */
  loadProposal(input: {
    proposalId: string;
  }): Promise<{ proposal: ProposalContext; policy: OpenPrPolicy } | { notPending: string }>;
  isProposalPending(input: { proposalId: string }): Promise<boolean>;
  claimGitWorker(): Promise<string>;
  /**
   * Renders title and body (docs/architecture.md "PR body") and opens the PR, or adopts the open
   * one for the same head.
   */
  openPullRequest(input: OpenPullRequestInput): Promise<{
    number: number;
    url: string;
    adopted: boolean;
    /** The run whose attempt created the PR (absent when adopted): see CommentChartInput. */
    createdInRun?: string;
    warnings?: string[];
  }>;
  /** Posts the chart comment unless one with this proposal's marker exists. */
  commentChart(input: CommentChartInput): Promise<{ posted: boolean }>;
  /** Step 14, idempotent: `already_recorded` is our own earlier write (docs/architecture.md "The open-PR workflow"). */
  markProposalOpened(input: {
    proposalId: string;
    prUrl: string;
    prNumber: number;
    branch: string;
    /** The params file the PR edits: a newer PR for the same file supersedes this one. */
    configPath?: string;
    fence?: LockFence;
  }): Promise<MarkOpenedOutcome>;
  /** `keepEarlier`: leave a cause an earlier run recorded (a reset run whose lock grant was stale). */
  recordPrOpenError(input: { proposalId: string; error: string; keepEarlier?: boolean }): Promise<RecordFailureOutcome>;
  /** Reads only: title and body as sent, the diff, the options' warnings, the PRs it would supersede. */
  previewPullRequest(input: PreviewPullRequestInput): Promise<PreviewPullRequest>;
  closePullRequest(input: { repo: ConfigRepoRef; number: number }): Promise<void>;
  /**
   * After the PR opened (outside the 15 steps, inside the lock): closes the open PRs of the
   * cluster's older proposals that edit the same params file, and records them `superseded`.
   */
  supersedeOlderPrs(input: SupersedeInput): Promise<SupersedeResult>;
  deleteBranch(input: { repo: ConfigRepoRef; branch: string }): Promise<void>;
  requestRepoLock(input: {
    configRepoId: string;
    request: { workflowId: string; runId: string; leaseMs: number };
  }): Promise<void>;
  /** For the lock workflow: the queued requesters whose current run no longer runs. */
  findGoneRequesters(input: { workflowIds: string[] }): Promise<string[]>;
}

/** What one config repo's reconciliation found (activities/forge/reconcile-activities.ts). */
export interface ReconcileRepoResult {
  /** PRs read back from GitHub (open, and closed within the window). */
  checked: number;
  /** Of those, reads GitHub answered 304 Not Modified (unchanged since the last read; no rate limit spent). */
  unchanged: number;
  /** Proposals whose pr_state changed (a webhook was missed). */
  corrected: number;
  /** Recorded PRs GitHub does not know under that number and branch. */
  missing: number;
  /** PRs recorded closed for longer than the window: not read (docs/operations.md "Webhooks"). */
  skipped: number;
  /** The first 100 corrections. */
  corrections: { proposalId: string; prNumber: number; from: string | null; to: string }[];
}

/** Activities of reconcilePrStatesWorkflow (docs/architecture.md "PR lifecycle"). */
export interface ReconcileActivities {
  /** Config repos with at least one proposal whose PR is recorded open. */
  /** Config repos with a PR recorded open, or closed within the window. */
  listReposToReconcile(): Promise<string[]>;
  /** Every PR of the repo whose state may change, or only `proposalId`'s. */
  reconcileRepoPrs(input: { configRepoId: string; proposalId?: string }): Promise<ReconcileRepoResult>;
  /** Drops webhook deliveries older than the retention; how many. */
  pruneWebhookDeliveries(): Promise<number>;
}

export interface GitActivities {
  /**
   * `branch`: also answer that branch's tip as the remote listed it when the fetch began (null: not
   * there; absent: no list was read, ask with checkBranch).
   */
  syncRepoCache(input: {
    repo: ConfigRepoRef;
    branch?: string;
  }): Promise<{ baseCommit: string; branchTip?: string | null }>;
  /** Undefined when the branch is free; our own earlier commit when it can be adopted; BRANCH_EXISTS otherwise. */
  checkBranch(input: { repo: ConfigRepoRef; branch: string; proposalId: string }): Promise<{ adoptCommit?: string }>;
  readParamsFile(input: {
    repo: ConfigRepoRef;
    baseCommit: string;
    configPath: string;
    templateName: string;
  }): Promise<{ path: string; text: string }>;
  applyConfigDiff(input: {
    paramsPath: string;
    text: string;
    diff: ConfigDiff;
    declaredParams: string[];
  }): Promise<PreparedChange>;
  renderChart(input: { proposalId: string; importance: Record<string, number> }): Promise<ChartOutcome>;
  /** The chart as the preview shows it: the PNG itself, written nowhere. */
  renderChartPreview(input: {
    importance: Record<string, number>;
  }): Promise<{ ok: true; pngBase64: string } | { ok: false; reason: string }>;
  /** Writes params (and chart) straight into the object store with the configured identity and trailers. */
  commitChange(input: CommitChangeInput): Promise<{ commit: string }>;
  /**
   * Create-only push. `adopted`: the branch appeared meanwhile holding another commit of this same
   * proposal (an abandoned attempt's push landed first), which is then the PR's head.
   */
  pushBranch(input: {
    repo: ConfigRepoRef;
    branch: string;
    commit: string;
    proposalId: string;
    fence?: LockFence;
  }): Promise<{ outcome: 'pushed' | 'already-on-remote' | 'adopted' }>;
}

/**
 * Every activity named in the step table (domain/open-pr-contracts.ts) is an activity of these
 * interfaces: renaming one on either side without the other fails to compile here.
 */
type UnknownStepActivity = Exclude<StepActivity, keyof (SharedActivities & GitActivities)>;
export const STEP_ACTIVITIES_ARE_ACTIVITIES: [UnknownStepActivity] extends [never]
  ? true
  : { missing: UnknownStepActivity } = true;

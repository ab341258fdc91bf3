// The activity surface of openPrWorkflow (SPEC §5), as the workflow sees it (`import type` only).
// Shared activities run on the shared task queue; git activities run on the worker-specific queue
// the workflow claims, because they share that worker's local repo cache and chart files.
import type { MarkOpenedOutcome } from '../db/proposals.js';
import type { LockFence } from '../domain/lock-contracts.js';
import type { OpenPrPolicy, StepActivity } from '../domain/open-pr-contracts.js';
import type { MetricDelta } from '../domain/metric-delta.js';
import type { ConfigDiff, ParamChange } from '../domain/params-diff.js';

export type { MarkOpenedOutcome };

export interface ConfigRepoRef {
  configRepoId: string;
  repoUrl: string;
  /** Name of the secret file holding the token; the token itself never leaves the activity. */
  authRef: string;
  baseBranch: string;
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

export interface SharedActivities {
  /** Step 1: the proposal's context and this worker's run policy, or why there is nothing to do. */
  loadProposal(input: { proposalId: string }): Promise<{ proposal: ProposalContext; policy: OpenPrPolicy } | { notPending: string }>;
  isProposalPending(input: { proposalId: string }): Promise<boolean>;
  claimGitWorker(): Promise<string>;
  /** Renders title and body (SPEC §8) and opens the PR, or adopts the open one for the same head. */
  openPullRequest(input: { proposal: ProposalContext; branch: string; changes: ParamChange[]; chartRendered: boolean; fence?: LockFence }): Promise<{ number: number; url: string; adopted: boolean }>;
  /** Posts the chart comment unless one with this proposal's marker exists. */
  commentChart(input: { proposal: ProposalContext; prNumber: number; branch: string; fence?: LockFence }): Promise<{ posted: boolean }>;
  /** Step 14, idempotent: `already_recorded` is our own earlier write (SPEC §5). */
  markProposalOpened(input: { proposalId: string; prUrl: string; prNumber: number; branch: string; fence?: LockFence }): Promise<MarkOpenedOutcome>;
  recordPrOpenError(input: { proposalId: string; error: string }): Promise<'recorded' | 'not_pending'>;
  closePullRequest(input: { repo: ConfigRepoRef; number: number }): Promise<void>;
  deleteBranch(input: { repo: ConfigRepoRef; branch: string }): Promise<void>;
  requestRepoLock(input: { configRepoId: string; request: { workflowId: string; runId: string; leaseMs: number } }): Promise<void>;
  /** For the lock workflow: the queued requesters whose current run no longer runs. */
  findGoneRequesters(input: { workflowIds: string[] }): Promise<string[]>;
}

export interface GitActivities {
  syncRepoCache(input: { repo: ConfigRepoRef }): Promise<{ baseCommit: string }>;
  /** Undefined when the branch is free; our own earlier commit when it can be adopted; BRANCH_EXISTS otherwise. */
  checkBranch(input: { repo: ConfigRepoRef; branch: string; proposalId: string }): Promise<{ adoptCommit?: string }>;
  readParamsFile(input: { repo: ConfigRepoRef; baseCommit: string; configPath: string; templateName: string }): Promise<{ path: string; text: string }>;
  applyConfigDiff(input: { paramsPath: string; text: string; diff: ConfigDiff; declaredParams: string[] }): Promise<PreparedChange>;
  renderChart(input: { proposalId: string; importance: Record<string, number> }): Promise<ChartOutcome>;
  /** Writes params (and chart) straight into the object store with the configured identity and trailers. */
  commitChange(input: { proposal: ProposalContext; baseCommit: string; change: PreparedChange; chartPath?: string }): Promise<{ commit: string }>;
  /**
   * Create-only push. `adopted`: the branch appeared meanwhile holding another commit of this same
   * proposal (an abandoned attempt's push landed first), which is then the PR's head.
   */
  pushBranch(input: { repo: ConfigRepoRef; branch: string; commit: string; proposalId: string; fence?: LockFence }): Promise<{ outcome: 'pushed' | 'already-on-remote' | 'adopted' }>;
}

/**
 * Every activity named in the step table (domain/open-pr-contracts.ts) is an activity of these
 * interfaces: renaming one on either side without the other fails to compile here.
 */
type UnknownStepActivity = Exclude<StepActivity, keyof (SharedActivities & GitActivities)>;
export const STEP_ACTIVITIES_ARE_ACTIVITIES: [UnknownStepActivity] extends [never] ? true : { missing: UnknownStepActivity } = true;

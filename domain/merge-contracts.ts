// Contract of merge when green (docs/architecture.md "Merge when green"): the workflow that merges a
// proposal's PR once its checks pass, its id, signals and states. Shared by the API, the webhook
// route, the open-PR workflow that starts it, and the activities; no I/O here.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MergeMethod } from './pr-options.js';

export const MERGE_WORKFLOW = 'mergeWhenGreenWorkflow';

/** One per proposal: the open-PR run starts it as a child once the PR is open and the lock released. */
export const mergeWorkflowId = (proposalId: string) => `merge:${proposalId}`;

export const MERGE_STATES = [
  /** The service waits for the head commit's required checks. */
  'waiting',
  /** GitHub merges it itself once the checks pass (auto-merge enabled). */
  'auto_merge',
  /** In the base branch's merge queue. */
  'queued',
  'merged',
  'checks_failed',
  'timed_out',
  /** The head moved after the checks were read: never merged. */
  'head_moved',
  /** GitHub refused the merge (not mergeable, a conflict, a rule). */
  'refused',
  /** The PR was closed by someone, or superseded. */
  'closed',
  /** The proposal was rejected during the wait: the PR is closed. */
  'cancelled',
] as const;
export type MergeState = (typeof MERGE_STATES)[number];

/** States the workflow still acts in. */
export const ACTIVE_MERGE_STATES: readonly MergeState[] = ['waiting', 'auto_merge', 'queued'];

export interface MergeInput {
  proposalId: string;
  prNumber: number;
  branch: string;
  /** The commit the PR was opened with; null when the run did not push it itself (then: the head the wait first sees). */
  headSha: string | null;
  method: MergeMethod;
}

export interface MergeOutcome {
  state: MergeState;
  note: string | null;
}

/** Webhooks → the workflow: the PR's checks or state may have changed; read them now. */
export const checksChangedSignal = defineSignal('checksChanged');
/** API → the workflow: the proposal was rejected; stop, close the PR. */
export const mergeRejectedSignal = defineSignal<[string]>('mergeRejected');
/** The open-PR run → the workflow of a proposal it superseded: its PR is closed; stop. */
export const mergeSupersededSignal = defineSignal<[string]>('mergeSuperseded');

export interface MergeView extends MergeOutcome {
  /** The head commit the checks were read on. */
  headSha: string | null;
  checks: { name: string; state: 'pending' | 'passed' | 'failed' }[];
}
export const mergeStateQuery = defineQuery<MergeView>('mergeState');

// Contract of `previewProposalWorkflow` (docs/api.md "Preview"): what opening a proposal's PR would
// send and meet, found without writing anything anywhere — no branch, no PR, no comment, no row,
// no repo lock. Shared by the API, the workflow and the activities; no I/O here.
import type { ErrorCode } from './errors.js';
import type { ParamChange } from './params-diff.js';
import type { PrOptions } from './pr-options.js';

export const PREVIEW_WORKFLOW = 'previewProposalWorkflow';

/** Each preview is its own short run: `preview:{proposal id}:{random}`. */
export const previewWorkflowIdPrefix = (proposalId: string) => `preview:${proposalId}:`;

export interface PreviewInput {
  proposalId: string;
}

/** The run would fail: its code, message and the step of docs/architecture.md that would fail. */
export interface PredictedFailure {
  code: ErrorCode;
  message: string;
  step: string;
}

export interface PreviewChart {
  /** Where the commit would put it. */
  path: string;
  pngBase64: string;
}

export interface PreviewResult {
  proposalId: string;
  branch: string;
  base: string;
  /** The base branch's commit the change was made on; null when the sync would fail. */
  baseCommit: string | null;
  /** The branch exists holding this proposal's own commit: the run would adopt it. */
  adoptsCommit: string | null;
  paramsPath: string | null;
  /** `git diff`'s unified form of the params file; null when the run would fail before the change. */
  diff: string | null;
  changes: ParamChange[];
  /** As sent: after GitHub's length limits, redaction, and a forge's draft marker. */
  title: string | null;
  body: string | null;
  chart: PreviewChart | null;
  /** Why there is no chart (a manual proposal, no importances, a renderer failure: then the body has the table). */
  chartNote: string | null;
  prOptions: PrOptions;
  /** What the run would record as warnings: PR options the forge would refuse or leave out. */
  warnings: string[];
  /** Older proposals whose open PR the new one would supersede. */
  supersedes: { proposalId: string; prNumber: number }[];
  wouldFail: PredictedFailure | null;
}

/** What the preview's forge activity returns. */
export interface PreviewPullRequest {
  title: string;
  body: string;
  diff: string;
  warnings: string[];
  supersedes: { proposalId: string; prNumber: number }[];
}

// The forge port: the pull-request operations the open-PR workflow and the PR
// lifecycle need from any forge, GitHub or Gitea/Forgejo. Each adapter implements them for one
// repository; what a forge lacks (GitHub's Git Data API, Apps) stays on that forge's own client.
import { AppError } from './errors.js';
import type { PrOptions } from './pr-options.js';

export interface PullRequestRef {
  number: number;
  url: string;
  headRef: string;
  baseRef: string;
  state: 'open' | 'closed';
  /**
   * True when an open PR for the same head already existed and was adopted (docs/architecture.md
   * "The open-PR workflow" step 12).
   */
  adopted: boolean;
}

export interface IssueComment {
  id: number;
  body: string;
  url: string;
}

/** A PR as the reconciliation reads it. */
export interface PullRequestState {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  merged_at: string | null;
  updated_at: string;
  /** The head branch and the commit the PR's head is at. */
  head: { ref: string; sha: string };
  /** The forge's ETag for this answer, when it gives one: the next read may be conditional on it. */
  etag: string | null;
}

export interface ForgePullRequests {
  /**
   * The PR's current state; null when the forge does not know the number (404); `not_modified`
   * when `ifNoneMatch` is still its ETag (forges without ETags never answer that).
   */
  getPullRequest(pullNumber: number, ifNoneMatch?: string | null): Promise<PullRequestState | null | 'not_modified'>;
  /** The title and body as this forge is sent them: redacted, with the forge's draft marker. */
  pullRequestText(input: { title: string; body: string; draft?: boolean }): { title: string; body: string };
  /** Opens the PR, or adopts the open one for the same head and base (a retried attempt's own). */
  createOrAdoptPullRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
    draft?: boolean;
  }): Promise<PullRequestRef>;
  /**
   * Adds what `options` asks for and the PR does not have yet (labels, review requests,
   * assignees); never throws for an option the forge refuses: each refusal is a warning returned.
   */
  applyPrOptions(pullNumber: number, options: PrOptions): Promise<string[]>;
  /**
   * What applying `options` to a new PR would meet, found by reads only (a preview): each option
   * the forge would refuse or leave out, as the warning the run would record.
   */
  checkPrOptions(options: PrOptions): Promise<string[]>;
  findOpenPullRequest(head: string): Promise<PullRequestRef | null>;

  listComments(issueNumber: number): Promise<IssueComment[]>;
  /**
   * Posts unless a comment holding `marker` (a hidden HTML comment) exists already. `unseen`: the
   * caller knows no such comment can exist yet (nothing of its own posted there), so the look is
   * skipped — one request less.
   */
  createCommentOnce(input: {
    issueNumber: number;
    body: string;
    marker: string;
    unseen?: boolean;
  }): Promise<{ comment: IssueComment; created: boolean }>;
  /** Closes the PR and answers its state after the close (a forge may refuse to close a merged PR). */
  closePullRequest(pullNumber: number): Promise<PullRequestState>;
  /** The message of a commit of the repository; null when the forge does not know the commit. */
  commitMessage(sha: string): Promise<string | null>;
  /** Deletes the branch; a branch already gone counts as done. */
  deleteBranch(branch: string): Promise<{ deleted: boolean }>;
}

/** The one form a comment marker takes: a single hidden HTML comment. */
export function assertCommentMarker(marker: string): void {
  if (!/^<!--[\s\S]*-->$/.test(marker) || marker.slice(4, -3).includes('--'))
    throw new Error('comment marker must be one hidden HTML comment: <!-- ... -->');
}

/**
 * A PR's head branch as a forge reports it. Once the branch is deleted (merged and cleaned up, or
 * the PR closed by the delete) Gitea and Forgejo answer `head.ref` as the PR's own ref,
 * `refs/pull/{n}/head`, in the REST API and in webhooks, and keep the branch name in `head.label`
 * (pinned in gitea-forge.int.test.ts); GitHub keeps the name in `head.ref` (its label is
 * `owner:branch`, and its head refs are branch names, never `refs/pull/…`).
 */
export function headBranchOf(head: { ref: string; label?: string | null | undefined }): string {
  return /^refs\/pull\/\d+\/head$/.test(head.ref) &&
    typeof head.label === 'string' &&
    head.label !== '' &&
    !head.label.includes(':')
    ? head.label
    : head.ref;
}

/**
 * The warning a PR option the forge refused leaves on the run. A transient failure is not a
 * refusal: it is thrown, failing the attempt, and the step's retry asks again for what the PR
 * still lacks (docs/operations.md "Who retries what").
 */
export function refusalOf(failure: AppError): string {
  if (failure.retryable) throw failure;
  return failure.message;
}

/**
 * The forge said an open PR for `head` exists, but none was found: it was closed between the
 * answer and the lookup. Retryable: a later attempt can create it.
 */
export function adoptedPrVanished(forge: 'GitHub' | 'Gitea', head: string, upstreamStatus: number): AppError {
  return new AppError({
    code: 'GITHUB_API_FAILED',
    message: `${forge} reported an open pull request for ${head} but none was found`,
    retryable: true,
    upstreamStatus,
    operation: 'create pull request',
  });
}

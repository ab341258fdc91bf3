// Supersede (docs/architecture.md "PR lifecycle"): once a proposal's PR is open and recorded, the
// open PRs of the cluster's older proposals that edit the same params file are closed, each with a
// comment linking the new PR, its branch deleted when its tip is the commit this service made for
// that proposal (its `RelyLoop-Proposal` trailer; anything pushed on top keeps the branch), and the
// older proposal moves to `superseded`. Run inside the repo lock, after mark_opened.
//
// Safe to repeat and to abandon half-way: the newer proposal is written on the older row before
// the close (db/supersede.ts), so a retry that finds the PR closed knows the close was its own; the
// comment carries a marker; a branch already gone counts as deleted; the final write is
// conditional. A PR merged before the close is left alone and recorded merged. A refusal of the
// forge is a reason in the result, never a failure; a transient failure fails the attempt, and the
// step's retry carries on where the row says it stopped.
import type { Database } from '../../db/database.js';
import { applyReadBack } from '../../db/pr-lifecycle.js';
import {
  dropSupersedeIntent,
  listSupersedeCandidates,
  markSuperseded,
  recordSupersedeIntent,
  type SupersedeCandidate,
} from '../../db/supersede.js';
import { parseRelyLoopTrailers } from '../../domain/commit-message.js';
import { AppError } from '../../domain/errors.js';
import type { ForgePullRequests, PullRequestState } from '../../domain/forge.js';
import { createSupersedeComment, supersedeCommentMarker } from '../../domain/supersede-comment.js';
import { tryCurrentContext } from '../../runtime/activity-context.js';
import type { SupersedeInput, SupersedeResult } from '../types.js';
import { forgeClientFor, type ForgeClientDeps } from './forge-client.js';

export interface SupersedeActivityDeps extends ForgeClientDeps {
  db: Database;
}

/** A failure the forge will answer the same way again: a reason to leave the PR, not to retry. */
const refusal = (error: unknown): string | null =>
  error instanceof AppError && !error.retryable ? error.message : null;

export function createSupersedeActivities(deps: SupersedeActivityDeps) {
  return {
    async supersedeOlderPrs(input: SupersedeInput): Promise<SupersedeResult> {
      const result: SupersedeResult = { superseded: [], leftAlone: [] };
      const candidates = await listSupersedeCandidates(deps.db, input);
      if (candidates.length === 0) return result; // the common case: one query, no request to the forge
      const { pulls } = await forgeClientFor(deps, input.repo);
      const context = tryCurrentContext();
      for (const older of candidates) {
        context?.heartbeat({ proposalId: older.proposalId });
        const done = await supersedeOne(deps.db, pulls, input, older);
        if ('reason' in done) {
          result.leftAlone.push({ proposalId: older.proposalId, prNumber: older.prNumber, reason: done.reason });
          context?.log.warn('older PR left as it is', { ...older, reason: done.reason });
        } else {
          const { branchDeleted, warnings } = done;
          result.superseded.push({
            proposalId: older.proposalId,
            prNumber: older.prNumber,
            branchDeleted,
            ...(warnings.length > 0 ? { warnings } : {}),
          });
          context?.log.info('older PR superseded', { ...older, by: input.proposalId, pr: input.pr.number });
        }
      }
      return result;
    },
  };
}

async function supersedeOne(
  db: Database,
  pulls: ForgePullRequests,
  input: SupersedeInput,
  older: SupersedeCandidate,
): Promise<{ branchDeleted: boolean; warnings: string[] } | { reason: string }> {
  if (!(await recordSupersedeIntent(db, older.proposalId, input.proposalId))) return { reason: 'no longer pr_opened' };
  let closed: PullRequestState;
  try {
    closed = await pulls.closePullRequest(older.prNumber);
  } catch (error) {
    const refused = refusal(error);
    if (refused === null) throw error;
    // A forge may refuse to close a PR merged meanwhile (Gitea does): read it back.
    const now = await pulls.getPullRequest(older.prNumber);
    if (now === null || now === 'not_modified' || !now.merged) {
      await dropSupersedeIntent(db, older.proposalId, input.proposalId);
      return { reason: `the forge refused to close PR #${older.prNumber}: ${refused}` };
    }
    closed = now;
  }
  if (closed.head.ref !== older.branch) {
    // Not the PR the row records (a number reused after a transfer): nothing more is done to it.
    await dropSupersedeIntent(db, older.proposalId, input.proposalId);
    return { reason: `PR #${older.prNumber} is not on branch ${older.branch} (it is on ${closed.head.ref})` };
  }
  if (closed.merged) {
    // Merged before the close: the merge stands, and the row learns of it like from a webhook.
    await dropSupersedeIntent(db, older.proposalId, input.proposalId);
    await applyReadBack(db, input.repo.configRepoId, closed);
    return { reason: `PR #${older.prNumber} was merged` };
  }
  const reasons: string[] = [];
  try {
    await pulls.createCommentOnce({
      issueNumber: older.prNumber,
      body: createSupersedeComment({ newProposalId: input.proposalId, newPr: input.pr, paramsPath: input.paramsPath }),
      marker: supersedeCommentMarker(input.proposalId),
    });
  } catch (error) {
    const refused = refusal(error);
    if (refused === null) throw error;
    reasons.push(`comment not posted: ${refused}`);
  }
  let branchDeleted = false;
  const message = await pulls.commitMessage(closed.head.sha);
  if (message !== null && parseRelyLoopTrailers(message).proposalId === older.proposalId) {
    try {
      await pulls.deleteBranch(older.branch);
      branchDeleted = true;
    } catch (error) {
      const refused = refusal(error);
      if (refused === null) throw error;
      reasons.push(`branch ${older.branch} kept: ${refused}`);
    }
  } else {
    reasons.push(`branch ${older.branch} kept: its tip is not the commit made for proposal ${older.proposalId}`);
  }
  const marked = await markSuperseded(db, {
    proposalId: older.proposalId,
    by: input.proposalId,
    closedAt: new Date(closed.updated_at),
  });
  if (marked === 'not_pr_opened') return { reason: 'its proposal changed meanwhile; the PR is closed' };
  return { branchDeleted, warnings: reasons };
}

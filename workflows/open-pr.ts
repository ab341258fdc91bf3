// openPrWorkflow: the 15 steps of SPEC §5 for one proposal, exactly once. Every side effect is an
// activity with its own timeout and retry policy; terminal failures are non-retryable
// ApplicationFailures whose type is the error code (domain/errors.ts), recorded redacted in
// pr_open_error with a conditional update that never overwrites a rejection.
import { isCancellation, log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SharedActivities } from '../activities/types.js';
import { createBranchName } from '../domain/branch-names.js';
import { terminalCodeOf, WORKFLOW_ERROR_CODES } from '../domain/errors.js';
import type { OpenPrInput, OpenPrOutcome } from '../domain/open-pr-contracts.js';
import { runGitSteps } from './git-steps.js';
import { describeFailure, findApplicationFailure, Progress } from './open-pr-progress.js';
import { withRepoLock } from './repo-lock-client.js';

/** Codes that end the run at once (SPEC §7) plus the preconditions `load` can find broken. */
export const NON_RETRYABLE_TYPES = [...WORKFLOW_ERROR_CODES, 'PROPOSAL_NOT_FOUND', 'CLUSTER_HAS_NO_CONFIG_REPO'];

const retry = (maximumAttempts: number, maximumInterval: string): ActivityOptions['retry'] => ({
  initialInterval: '1 second', backoffCoefficient: 2, maximumInterval, maximumAttempts, nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
});

/** Activity proxies whose calls carry a one-line summary shown in the Web UI's event history. */
const withSummary = (options: ActivityOptions) => (summary: string) => proxyActivities<SharedActivities>({ ...options, summary });

// Database calls are short; a few minutes of outage are ridden out.
const db = withSummary({ startToCloseTimeout: '30 seconds', retry: retry(12, '30 seconds') });
// GitHub calls: rate-limit waits arrive as nextRetryDelay from the activity (SPEC §9), so the
// interval cap only bounds ordinary backoff.
const github = withSummary({ startToCloseTimeout: '2 minutes', retry: retry(8, '2 minutes') });
// Signal-with-start of the lock and the worker claim are quick control-plane calls.
const control = withSummary({ startToCloseTimeout: '20 seconds', retry: retry(10, '10 seconds') });

/** A lease comfortably longer than the git and GitHub steps; renewed every third of it. */
const LOCK_LEASE_MS = 10 * 60_000;

export async function openPrWorkflow({ proposalId, gitWorkerStartTimeoutMs }: OpenPrInput): Promise<OpenPrOutcome> {
  const progress = new Progress();
  const loaded = await progress.run('load', () => db('1/15 load proposal, cluster, template, config repo, study').loadProposal({ proposalId }));
  if ('notPending' in loaded) {
    log.info('proposal is not pending; nothing to do', { proposalId, status: loaded.notPending });
    return { outcome: 'not_pending', status: loaded.notPending };
  }
  const proposal = loaded;
  const branch = createBranchName({ proposalId, studyId: proposal.study?.id ?? null });

  try {
    progress.start('lock');
    const result = await withRepoLock(
      { requestRepoLock: control(`2/15 request lock repo-lock:${proposal.repo.configRepoId}`).requestRepoLock },
      { configRepoId: proposal.repo.configRepoId, leaseMs: LOCK_LEASE_MS, onGranted: () => progress.finish('lock', 'completed') },
      async (): Promise<OpenPrOutcome> => {
        const pending = await progress.run('recheck', () => db('3/15 recheck the proposal is still pending').isProposalPending({ proposalId }));
        if (!pending) return { outcome: 'not_pending', status: 'no longer pending' };

        const { change, chartRendered } = await runGitSteps(progress, control('4/15 claim a worker for the git steps'), { proposal, branch, startTimeoutMs: gitWorkerStartTimeoutMs });

        const pr = await progress.run('open_pr', () => github(`12/15 open PR ${branch} → ${proposal.repo.baseBranch}`).openPullRequest({ proposal, branch, changes: change.changes, chartRendered }),
          (p) => `${p.adopted ? 'adopted' : 'opened'} PR #${p.number}`);

        if (chartRendered) {
          // Not fatal (SPEC §5 step 13): the chart is on the branch either way.
          await progress.run('comment', () => github(`13/15 comment the chart on PR #${pr.number}`).commentChart({ proposal, prNumber: pr.number, branch }),
            (c) => (c.posted ? 'posted' : 'already posted')).catch((error: unknown) => {
            if (isCancellation(error)) throw error;
            log.warn('chart comment failed; continuing', { error: describeFailure(error) });
          });
        } else {
          progress.skip('comment', 'no chart');
        }

        const marked = await progress.run('mark_opened', () =>
          db('14/15 mark the proposal pr_opened (only if still pending)').markProposalOpened({ proposalId, prUrl: pr.url, prNumber: pr.number, branch }));
        if (marked) return { outcome: 'opened', prUrl: pr.url, prNumber: pr.number, branch, adoptedPr: pr.adopted };

        // Rejected while we worked: undo what we opened, leave the rejection untouched.
        log.warn('proposal was rejected meanwhile; closing the PR and deleting the branch', { proposalId, pr: pr.number });
        await github(`compensate: close PR #${pr.number}`).closePullRequest({ repo: proposal.repo, number: pr.number });
        await github(`compensate: delete branch ${branch}`).deleteBranch({ repo: proposal.repo, branch });
        return { outcome: 'rejected_meanwhile', closedPr: pr.number };
      },
    );
    progress.start('release'); // withRepoLock released it in its finally
    progress.finish('release', 'completed');
    return result;
  } catch (error) {
    progress.start('release');
    progress.finish('release', 'completed', { note: 'released after failure' });
    if (isCancellation(error)) throw error;
    const failure = findApplicationFailure(error);
    // A transient failure whose retries ran out reports its code (e.g. CLONE_FAILED after 5 × 502).
    const code = terminalCodeOf(failure?.type) ?? 'INTERNAL_ERROR';
    const detail = failure?.message ?? describeFailure(error);
    await db(`record pr_open_error ${code}`).recordPrOpenError({ proposalId, error: `${code}: ${detail}` });
    throw error;
  }
}

// openPrWorkflow: the 15 steps of docs/architecture.md "The open-PR workflow" for one proposal,
// exactly once. Every side effect is an activity with its own timeout and retry policy; terminal
// failures are non-retryable ApplicationFailures whose type is the error code (domain/errors.ts),
// recorded redacted in pr_open_error with a conditional update that never overwrites a rejection.
import {
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { mergeSupersededSignal, mergeWorkflowId } from '../domain/merge-contracts.js';
import type { MergeMethod } from '../domain/pr-options.js';
import { mergeWhenGreenWorkflow } from './merge-when-green.js';
import type { ProposalContext, SharedActivities } from '../activities/types.js';
import { createBranchName } from '../domain/branch-names.js';
import { studySummaryOf } from '../domain/step-inputs.js';
import { terminalCodeOf, type ErrorCode } from '../domain/errors.js';
import {
  DEFAULT_OPEN_PR_POLICY,
  proposalRejectedSignal,
  stepSummary,
  type OpenPrInput,
  type OpenPrOutcome,
  type OpenPrStep,
  type SupersedeResult,
} from '../domain/open-pr-contracts.js';
import { createStepProxies, type StepProxies } from './activity-options.js';
import { claimGitWorker, runGitSteps } from './git-steps.js';
import { settledInOrder } from '../domain/settled.js';
import { describeFailure, findApplicationFailure, Progress } from './open-pr-progress.js';
import { countRun } from './metrics.js';
import { isLockLost, withRepoLock, type HeldLock, type LockLostDetails } from './repo-lock-client.js';
import { SEARCH_ATTRIBUTES } from '../domain/temporal-contracts.js';

export { NON_RETRYABLE_TYPES } from './activity-options.js';

/** A lease comfortably longer than the git and GitHub steps; renewed every third of it. */
const LOCK_LEASE_MS = 10 * 60_000;

/** The code a step stands for when it fails without one (e.g. its retry budget ran out on timeouts). */
const STEP_CODES: Partial<Record<OpenPrStep, ErrorCode>> = {
  sync: 'CLONE_FAILED',
  branch_check: 'CLONE_FAILED',
  path_check: 'CLONE_FAILED',
  commit: 'CLONE_FAILED',
  push: 'CLONE_FAILED',
  open_pr: 'GITHUB_API_FAILED',
};

/** Steps before the push: a rejection cancels them at once (they change nothing outside the worker). */
const LOCAL_STEPS: readonly (OpenPrStep | null)[] = [
  'claim',
  'sync',
  'branch_check',
  'path_check',
  'apply_diff',
  'render_chart',
  'commit',
];

/** Thrown inside the locked section when the proposal was rejected before a side effect. */
class RejectedBeforeSideEffect extends Error {}

/** Runs from this version on post the chart comment and record the PR on the proposal side by side. */
export const COMMENT_BESIDE_MARK_PATCH = 'comment-beside-mark';
/**
 * Runs from this version on claim the git worker while the recheck reads the proposal: a claim only
 * names a worker's queue (no side effect), so one made for a proposal no longer pending is unused.
 */
export const CLAIM_BESIDE_RECHECK_PATCH = 'claim-beside-recheck';

export async function openPrWorkflow({ proposalId }: OpenPrInput): Promise<OpenPrOutcome> {
  const progress = new Progress();
  // A rejection reaches the run at once: no side effect starts after it, and the steps
  // that only work on the worker's copy of the repo are cancelled where they are.
  let rejected = false;
  let localSteps: CancellationScope | undefined;
  setHandler(proposalRejectedSignal, () => {
    rejected = true;
    if (LOCAL_STEPS.includes(progress.currentStep())) localSteps?.cancel();
  });
  const loadDb = createStepProxies(DEFAULT_OPEN_PR_POLICY).db;
  let loaded: Awaited<ReturnType<SharedActivities['loadProposal']>>;
  try {
    loaded = await progress.run('load', () => loadDb(stepSummary('load')).loadProposal({ proposalId }));
  } catch (error) {
    // Recorded like a failure of any other step, with the default budgets.
    return await endFailedRun(error, { proposalId, progress, db: loadDb, branch: null });
  }
  if ('notPending' in loaded) {
    log.info('proposal is not pending; nothing to do', { proposalId, status: loaded.notPending });
    countRun('not_pending');
    return { outcome: 'not_pending', status: loaded.notPending };
  }
  // The loading worker's timeouts and budgets, recorded in history by the load step.
  const { proposal, policy: stepPolicy } = loaded;
  const { db, github, control, gitOn } = createStepProxies(stepPolicy);
  const branch = createBranchName({ proposalId, studyId: proposal.study?.id ?? null });
  let openedPr: number | undefined;
  /** The commit the PR was opened with: the only one merge when green merges. */
  let headCommit: string | null = null;

  try {
    progress.start('lock');
    const result = await withRepoLock(
      { requestRepoLock: control(stepSummary('lock', `repo-lock:${proposal.repo.configRepoId}`)).requestRepoLock },
      {
        configRepoId: proposal.repo.configRepoId,
        leaseMs: LOCK_LEASE_MS,
        onGranted: () => progress.finish('lock', 'completed'),
      },
      async (heldLock): Promise<OpenPrOutcome> => {
        const lock: HeldLock = {
          fenced: (before, call) =>
            rejected
              ? Promise.reject(new RejectedBeforeSideEffect(`the proposal was rejected before ${before}`))
              : heldLock.fenced(before, call),
        };
        try {
          return await openPr(lock);
        } catch (error) {
          const stoppedByRejection =
            error instanceof RejectedBeforeSideEffect ||
            (rejected && isCancellation(error) && !CancellationScope.current().consideredCancelled);
          if (!stoppedByRejection) throw error;
          log.warn('proposal was rejected during the run; stopping before the next side effect', {
            proposalId,
            step: progress.currentStep(),
          });
          // Undo what exists: the PR this run opened, and the branch once the push ran (or our
          // earlier commit was adopted). A push stopped by the rejection before it began sent nothing.
          const pushReached = ['completed', 'skipped', 'running', 'cancelled'].includes(progress.statusOf('push'));
          // A pending proposal's row points at no PR, and a rejection leaves it so.
          return await compensateRejection(
            { github, proposal, branch },
            { number: null, branch: null },
            { pr: openedPr, branch: pushReached },
          );
        }
      },
    );
    progress.start('release'); // withRepoLock released it in its finally
    progress.finish('release', 'completed');
    countRun(result.outcome);
    // The option comes from the recorded load: runs loaded before it existed start nothing.
    const merge = proposal.repo.prOptions.merge;
    if (result.outcome !== 'opened' || merge == null) return result;
    return { ...result, merge: await startMergeWhenGreen(result, merge.method) };
  } catch (error) {
    return await endFailedRun(error, { proposalId, progress, db, branch });
  }

  async function openPr(lock: HeldLock): Promise<OpenPrOutcome> {
    const recheck = () => progress.run('recheck', () => db(stepSummary('recheck')).isProposalPending({ proposalId }));
    const claim = control(stepSummary('claim'));
    let pending: boolean;
    let claimed: string | undefined;
    if (!rejected && patched(CLAIM_BESIDE_RECHECK_PATCH))
      [pending, claimed] = await settledInOrder(recheck(), claimGitWorker(progress, claim));
    else pending = await recheck();
    if (!pending || rejected) return { outcome: 'not_pending', status: 'no longer pending' };

    localSteps = new CancellationScope();
    const { change, chartRendered, commit } = await localSteps.run(() =>
      runGitSteps(
        progress,
        { claim, gitOn, lock, reclaimBudgetMs: stepPolicy.gitRetryBudgetMs, ...(claimed ? { claimed } : {}) },
        { proposal, branch },
      ),
    );
    localSteps = undefined;

    // Each side effect first checks the lock is still ours, and presents the fence to its activity.
    const pr = await progress.run(
      'open_pr',
      () =>
        lock.fenced('opening the PR', (fence) =>
          github(stepSummary('open_pr', `${branch} → ${proposal.repo.baseBranch}`)).openPullRequest({
            repo: proposal.repo,
            proposalId,
            branch,
            study: studySummaryOf(proposal.study, proposal.metricDelta),
            changes: change.changes,
            chartRendered,
            fence,
          }),
        ),
      (p) =>
        `${p.adopted ? 'adopted' : 'opened'} PR #${p.number}${p.warnings?.length ? ` — ${p.warnings.join('; ')}` : ''}`,
    );
    openedPr = pr.number;
    if (pr.warnings?.length)
      log.warn('PR options not all applied; the PR is open', { pr: pr.number, warnings: pr.warnings });

    // Not fatal (docs/architecture.md "The open-PR workflow" step 13): the chart is on the branch either way.
    const comment = async (): Promise<void> => {
      if (!chartRendered) return progress.skip('comment', 'no chart');
      await progress
        .run(
          'comment',
          () =>
            lock.fenced('the chart comment', (fence) =>
              github(stepSummary('comment', `PR #${pr.number}`)).commentChart({
                repo: proposal.repo,
                proposalId,
                studyId: proposal.study?.id as string,
                prNumber: pr.number,
                branch,
                ...(pr.createdInRun !== undefined ? { prCreatedInRun: pr.createdInRun } : {}),
                fence,
              }),
            ),
          (c) => (c.posted ? 'posted' : 'already posted'),
        )
        .catch((error: unknown) => {
          // A lost lock ends the run: the comment step must not swallow it.
          if (isCancellation(error) || error instanceof RejectedBeforeSideEffect || isLockLost(error)) throw error;
          log.warn('chart comment failed; continuing', { error: describeFailure(error) });
        });
    };
    const markOpened = () =>
      progress.run(
        'mark_opened',
        () =>
          lock.fenced('marking the proposal', async (fence) =>
            db(stepSummary('mark_opened')).markProposalOpened({
              proposalId,
              prUrl: pr.url,
              prNumber: pr.number,
              branch,
              configPath: change.paramsPath,
              fence,
            }),
          ),
        (m) => (m.outcome === 'already_recorded' ? 'already recorded by an earlier attempt' : m.outcome),
      );
    // The proposal records its PR while the chart comment is posted (with production pacing the
    // comment waits out GitHub's 1 s after the PR): neither needs the other. Runs started before
    // this version replay their recorded order, the comment first.
    let marked: Awaited<ReturnType<typeof markOpened>>;
    if (patched(COMMENT_BESIDE_MARK_PATCH)) [, marked] = await settledInOrder(comment(), markOpened());
    else {
      await comment();
      marked = await markOpened();
    }
    // `already_recorded`: our own earlier attempt committed the write and lost its answer.
    if (marked.outcome === 'marked' || marked.outcome === 'already_recorded') {
      const opened = { outcome: 'opened', prUrl: pr.url, prNumber: pr.number, branch, adoptedPr: pr.adopted } as const;
      headCommit = commit;
      // The option comes from the recorded load: runs loaded before it existed supersede nothing.
      if (proposal.repo.prOptions.supersede !== true) return opened;
      return { ...opened, supersede: await supersedeOlder(lock, pr, change.paramsPath) };
    }
    // Rejected while we worked: undo what we opened, leave the rejection untouched — and never
    // touch a PR or branch the proposal row points at.
    const row =
      marked.outcome === 'not_pending'
        ? { number: marked.prNumber, branch: marked.prBranch }
        : { number: null, branch: null };
    log.warn('proposal was rejected meanwhile; closing the PR and deleting the branch', {
      proposalId,
      pr: pr.number,
      row: marked,
    });
    return await compensateRejection({ github, proposal, branch }, row, { pr: pr.number, branch: true });
  }

  /**
   * After the lock is released: the workflow that merges the PR once its checks pass, as a child
   * that outlives this run. One per proposal: a reset run that finds it started names it.
   */
  async function startMergeWhenGreen(
    opened: { prNumber: number; branch: string },
    method: MergeMethod,
  ): Promise<{ workflowId: string } | { failed: string }> {
    const workflowId = mergeWorkflowId(proposalId);
    try {
      await startChild(mergeWhenGreenWorkflow, {
        workflowId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Merge PR #${opened.prNumber} of proposal ${proposalId} when its checks pass`,
        args: [
          {
            proposalId,
            prNumber: opened.prNumber,
            branch: opened.branch,
            headSha: headCommit,
            method,
            repo: proposal.repo,
            policy: stepPolicy,
          },
        ],
      });
      return { workflowId };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId };
      const failed = describeFailure(error);
      log.warn('could not start merging the PR when its checks pass; the PR is open', { error: failed });
      return { failed };
    }
  }

  /**
   * Outside the 15 steps, still inside the lock: the open PRs of the cluster's older proposals for
   * the same params file are closed (docs/architecture.md "PR lifecycle"). Never fails the run:
   * the PR is open and recorded whatever happens here.
   */
  async function supersedeOlder(
    lock: HeldLock,
    pr: { number: number; url: string },
    paramsPath: string,
  ): Promise<SupersedeResult | { failed: string }> {
    try {
      const done = await lock.fenced('superseding older PRs', (fence) =>
        github(`supersede: older PRs of ${paramsPath}`).supersedeOlderPrs({
          repo: proposal.repo,
          proposalId,
          clusterId: proposal.clusterId,
          paramsPath,
          pr: { number: pr.number, url: pr.url },
          fence,
        }),
      );
      if (done.leftAlone.length > 0) log.warn('older PRs left as they are', { leftAlone: done.leftAlone });
      // A superseded proposal's merge, if one is waiting, stops: its PR is closed.
      for (const older of done.superseded)
        await getExternalWorkflowHandle(mergeWorkflowId(older.proposalId))
          .signal(mergeSupersededSignal, `superseded by proposal ${proposalId} (PR #${pr.number})`)
          .catch(() => undefined);
      return done;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failed = describeFailure(error);
      log.warn('superseding older PRs failed; the PR is open', { error: failed });
      return { failed };
    }
  }
}

interface CompensationDeps {
  github: StepProxies['github'];
  proposal: ProposalContext;
  branch: string;
}

/**
 * Undoes what a rejected proposal's run created — `made.pr` (this run's PR) and, with
 * `made.branch`, the run's branch — but never what the proposal row points at.
 */
async function compensateRejection(
  { github, proposal, branch }: CompensationDeps,
  row: { number: number | null; branch: string | null },
  made: { pr?: number; branch: boolean },
): Promise<OpenPrOutcome> {
  const closing = made.pr !== undefined && row.number !== made.pr;
  if (closing)
    await github(`compensate: close PR #${made.pr}`).closePullRequest({
      repo: proposal.repo,
      number: made.pr as number,
    });
  if (made.branch && row.branch !== branch)
    await github(`compensate: delete branch ${branch}`).deleteBranch({ repo: proposal.repo, branch });
  return closing ? { outcome: 'rejected_meanwhile', closedPr: made.pr } : { outcome: 'rejected_meanwhile' };
}

interface FailedRun {
  proposalId: string;
  progress: Progress;
  db: StepProxies['db'];
  /** The run's branch; null when it failed before knowing it (load). */
  branch: string | null;
}

/**
 * Ends a run that failed at some step: records the cause in `pr_open_error` (docs/architecture.md
 * "The open-PR workflow"), counts it, marks the run for triage and fails it with its code as type
 * and first word of its message. A reset run stopped only by its stale lock grant reports no cause
 * of its own: it keeps the one on record, and ends as done when the proposal already has its PR.
 */
async function endFailedRun(error: unknown, { proposalId, progress, db, branch }: FailedRun): Promise<OpenPrOutcome> {
  const failedStep = progress.currentStep();
  if (failedStep !== null && failedStep !== 'load') {
    progress.start('release');
    progress.finish('release', 'completed', { note: 'released after failure' });
  }
  if (failedStep !== null) progress.endFailedAt(failedStep);
  // A step that failed on its own while the run was being cancelled (e.g. its worker died) is
  // part of the cancellation, not a failure to record.
  if (isCancellation(error) || CancellationScope.current().consideredCancelled) {
    countRun('cancelled');
    throw error;
  }
  const failure = findApplicationFailure(error);
  // A transient failure whose retry budget ran out reports its code (e.g. CLONE_FAILED after a
  // flapping server), and so does a step that only ever timed out.
  const code = terminalCodeOf(failure?.type) ?? (failedStep && STEP_CODES[failedStep]) ?? 'INTERNAL_ERROR';
  const detail = failure?.message ?? describeFailure(error);
  const staleGrant =
    code === 'LOCK_LOST' && (failure?.details?.[0] as LockLostDetails | undefined)?.staleGrant === true;
  const recorded = await db(`record pr_open_error ${code}`).recordPrOpenError({
    proposalId,
    error: `${code}: ${detail}`,
    ...(staleGrant ? { keepEarlier: true } : {}),
  });
  // The fence stopped a run whose PR is already the proposal's (a reset of a finished run, or a
  // mark_opened that committed as its lock was taken): nothing failed.
  const isOurs =
    typeof recorded === 'object' &&
    recorded.outcome === 'not_pending' &&
    recorded.status === 'pr_opened' &&
    recorded.prBranch === branch;
  if (code === 'LOCK_LOST' && isOurs) {
    log.info("the proposal already has this run's PR; nothing to do", { proposalId, pr: recorded.prNumber });
    countRun('not_pending');
    return { outcome: 'not_pending', status: 'pr_opened' };
  }
  // Counted as failed by the failure record (recordPrOpenError), where the row changes.
  // Triage in bulk: a failed run keeps the step it failed at and names its code, so
  // `OpenPrStep="apply_diff"` or `OpenPrErrorCode="CLONE_FAILED"` finds it.
  if (failedStep !== null)
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.openPrStep, value: failedStep },
      { key: SEARCH_ATTRIBUTES.openPrErrorCode, value: code },
    ]);
  // The run fails with the code as its type (docs/architecture.md "The open-PR workflow") and first
  // in its message (what the Web UI shows first), keeping the step's failure as its cause.
  throw ApplicationFailure.create({
    type: code,
    message: `${code}: ${detail}`,
    nonRetryable: true,
    cause: error instanceof Error ? error : undefined,
  });
}

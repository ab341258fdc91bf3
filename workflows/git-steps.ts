// Steps 4–11 of docs/architecture.md "The open-PR workflow" on one worker: they share that worker's
// local repo cache and chart file, so they run on the worker-specific task queue the `claim` step
// returns. If that worker goes away (its queue is not polled, or a step stops heartbeating),
// another worker is claimed and the git steps start over — they are idempotent (a branch holding
// our own commit is adopted). Workers are re-claimed for as long as the git retry budget lasts (a
// crash-looping deployment costs time, not the run; a count of three failed runs whose workers died
// three times in a row).
import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, log, patched, TimeoutFailure } from '@temporalio/workflow';
import type {
  ChartOutcome,
  GitActivities,
  PreparedChange,
  ProposalContext,
  SharedActivities,
} from '../activities/types.js';
import { settledInOrder } from '../domain/settled.js';
import { commitDescriptionOf } from '../domain/step-inputs.js';
import { stepSummary } from '../domain/open-pr-contracts.js';
import type { Proxy } from './activity-options.js';
import type { Progress } from './open-pr-progress.js';
import type { HeldLock } from './repo-lock-client.js';

/**
 * Runs from this version on render the chart while the sync fetches, and take the branch check
 * from the refs the sync's fetch listed (no request when the branch is not there).
 */
export const LEAN_GIT_STEPS_PATCH = 'lean-git-steps';

export interface GitStepsResult {
  change: PreparedChange;
  chartRendered: boolean;
  /** The branch's commit: pushed by this run, or an earlier attempt's found there; null when another attempt's push won. */
  commit: string | null;
}

export interface GitStepsDeps {
  claim: Pick<SharedActivities, 'claimGitWorker'>;
  /** Git activity proxies on a claimed worker's queue (activity-options.ts). */
  gitOn(taskQueue: string): Proxy<GitActivities>;
  /** The held repo lock: checked before the push, whose activity presents the fence. */
  lock: HeldLock;
  /** How long after the first claim a lost worker is still replaced (the git steps' retry budget). */
  reclaimBudgetMs: number;
  /** The first claim, when the caller made it (beside the recheck); later ones are made here. */
  claimed?: string;
}

/**
 * The claimed worker is gone: nobody picked the step up in time (schedule-to-start), or the
 * attempt stopped heartbeating (its process died mid-step; heartbeat timeouts are not retried on
 * the dead worker's queue, see activity-options.ts).
 */
function isWorkerLost(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof TimeoutFailure &&
    (error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START || error.cause.timeoutType === TimeoutType.HEARTBEAT)
  );
}

export async function runGitSteps(
  progress: Progress,
  deps: GitStepsDeps,
  { proposal, branch }: { proposal: ProposalContext; branch: string },
): Promise<GitStepsResult> {
  // Workflow time: deterministic on replay.
  const deadline = Date.now() + deps.reclaimBudgetMs;
  for (let claim = 1; ; claim++) {
    const queue = claim === 1 && deps.claimed !== undefined ? deps.claimed : await claimGitWorker(progress, deps.claim);
    progress.countGitClaim();
    try {
      return await gitSteps(progress, deps.gitOn(queue), deps.lock, proposal, branch);
    } catch (error) {
      if (!isWorkerLost(error) || Date.now() >= deadline) throw error;
      log.warn('git worker lost; claiming another and redoing the git steps', {
        queue,
        claim,
        budgetLeftMs: deadline - Date.now(),
      });
    }
  }
}

/** Step 4: a git worker's own queue, where every git step of the run goes. */
export function claimGitWorker(progress: Progress, claim: GitStepsDeps['claim']): Promise<string> {
  return progress.run(
    'claim',
    () => claim.claimGitWorker(),
    (q) => `git steps on ${q}`,
  );
}

/** Steps 4–11, in the order their inputs allow (docs/architecture.md "The open-PR workflow"). */
async function gitSteps(
  progress: Progress,
  git: (summary: string) => GitActivities,
  lock: HeldLock,
  proposal: ProposalContext,
  branch: string,
): Promise<GitStepsResult> {
  const { repo, proposalId } = proposal;
  // Runs started before this version replay their recorded order: one step after the other, and
  // the branch asked for on its own.
  const lean = patched(LEAN_GIT_STEPS_PATCH);
  const sync = () =>
    progress.run(
      'sync',
      () => git(stepSummary('sync', `fetch ${repo.baseBranch}`)).syncRepoCache({ repo, ...(lean ? { branch } : {}) }),
      (r) => `base ${r.baseCommit.slice(0, 12)}`,
    );
  const importance = proposal.study?.parameterImportance;
  const renderChart = async (): Promise<ChartOutcome> => {
    if (!importance || Object.keys(importance).length === 0) {
      progress.skip('render_chart', proposal.study ? 'study has no parameter importance' : 'manual proposal');
      return { ok: false, reason: 'no parameter importance' };
    }
    return progress.run(
      'render_chart',
      () => git(stepSummary('render_chart')).renderChart({ proposalId, importance }),
      (c) => (c.ok ? 'rendered' : `failed, importance table in the PR body instead: ${c.reason}`),
    );
  };

  // The chart needs only the study: it renders while the sync fetches. Both end before the run
  // goes on, and a failure is the sync's first (the step order), whichever came first.
  let chart: ChartOutcome | undefined;
  let synced: Awaited<ReturnType<typeof sync>>;
  if (lean) [synced, chart] = await settledInOrder(sync(), renderChart());
  else synced = await sync();
  const { baseCommit } = synced;

  // The sync's fetch began with the remote's list of refs: a branch not in it is free, and needs
  // no request of its own. One that is there (or no list) is looked at: our own earlier commit is
  // adopted, anything else refused.
  const { adoptCommit } =
    synced.branchTip === null
      ? await progress.run(
          'branch_check',
          async () => ({ adoptCommit: undefined }),
          () => 'branch is free (not among the refs the sync saw)',
        )
      : await progress.run(
          'branch_check',
          () => git(stepSummary('branch_check', branch)).checkBranch({ repo, branch, proposalId }),
          (r) => (r.adoptCommit ? `adopting our earlier commit ${r.adoptCommit.slice(0, 12)}` : 'branch is free'),
        );
  const file = await progress.run('path_check', () =>
    git(stepSummary('path_check', `${proposal.configPath}/${proposal.templateName}.params.json`)).readParamsFile({
      repo,
      baseCommit,
      configPath: proposal.configPath,
      templateName: proposal.templateName,
    }),
  );
  const change = await progress.run(
    'apply_diff',
    () =>
      git(stepSummary('apply_diff', `${Object.keys(proposal.configDiff).length} parameter(s)`)).applyConfigDiff({
        paramsPath: file.path,
        text: file.text,
        diff: proposal.configDiff,
        declaredParams: proposal.declaredParams,
      }),
    (c) => `${c.changes.length} parameter(s), ${c.changes.filter((x) => x.drift).length} drifted`,
  );
  chart ??= await renderChart();

  if (adoptCommit) {
    progress.skip('commit', `adopted ${adoptCommit.slice(0, 12)}`);
    progress.skip('push', 'branch already holds our commit');
    return { change, chartRendered: chart.ok, commit: adoptCommit };
  }
  const { commit } = await progress.run(
    'commit',
    () =>
      git(stepSummary('commit', chart.ok ? 'params and chart' : 'params')).commitChange({
        repo,
        baseCommit,
        change,
        describe: commitDescriptionOf(proposal),
        chartPath: chart.ok ? chart.chartPath : undefined,
      }),
    (c) => c.commit.slice(0, 12),
  );
  const pushed = await progress.run(
    'push',
    () =>
      lock.fenced('the push', (fence) =>
        git(stepSummary('push', branch)).pushBranch({ repo, branch, commit, proposalId, fence }),
      ),
    (p) => p.outcome,
  );
  // `adopted`: the branch holds an abandoned attempt's commit of this proposal, not this one.
  return { change, chartRendered: chart.ok, commit: pushed.outcome === 'adopted' ? null : commit };
}

// previewProposalWorkflow (docs/api.md "Preview"): what opening a proposal's PR would send and
// meet, without writing anything anywhere. It runs the open-PR steps that only read — load, sync
// the worker's repo cache, branch check, path check, apply diff — as the same activities a run
// uses, so a failure they predict is the one the run would hit; the chart is rendered into the
// result instead of a file; the title, body, diff and option warnings come from a forge activity
// that only reads. No repo lock is taken: a run of the same repo goes on undisturbed.
import { chartFilePath, createBranchName } from '../domain/branch-names.js';
import { terminalCodeOf } from '../domain/errors.js';
import { DEFAULT_OPEN_PR_POLICY, type OpenPrPolicy } from '../domain/open-pr-contracts.js';
import type { PredictedFailure, PreviewInput, PreviewResult } from '../domain/preview-contracts.js';
import { studySummaryOf } from '../domain/step-inputs.js';
import { createStepProxies } from './activity-options.js';
import { findApplicationFailure } from './open-pr-progress.js';

/** A preview answers a waiting API call: each kind of step retries for this long at most. */
const PREVIEW_BUDGET_MS = 20_000;

/** The run's policy with the preview's short retry budgets. */
const previewPolicy = (policy: OpenPrPolicy): OpenPrPolicy => ({
  ...policy,
  gitRetryBudgetMs: Math.min(policy.gitRetryBudgetMs, PREVIEW_BUDGET_MS),
  githubRetryBudgetMs: Math.min(policy.githubRetryBudgetMs, PREVIEW_BUDGET_MS),
  dbRetryBudgetMs: Math.min(policy.dbRetryBudgetMs, PREVIEW_BUDGET_MS),
});

/**
 * The failure a step met, as the run would record it: its code (a transient failure that outlasted
 * the preview's budget names the code its kind ends with). A failure without a code (the worker was
 * lost) fails the preview itself.
 */
function predicted(error: unknown, step: string): PredictedFailure {
  const failure = findApplicationFailure(error);
  const code = terminalCodeOf(failure?.type);
  if (code === undefined || failure === undefined) throw error;
  return { code, message: failure.message, step };
}

export async function previewProposalWorkflow({
  proposalId,
}: PreviewInput): Promise<PreviewResult | { notPending: string }> {
  const load = createStepProxies(previewPolicy(DEFAULT_OPEN_PR_POLICY)).db;
  const loaded = await load('preview: load the proposal').loadProposal({ proposalId });
  // The API checked the proposal just before; one that changed since is reported as it is now.
  if ('notPending' in loaded) return { notPending: loaded.notPending };
  const { proposal } = loaded;
  const { repo } = proposal;
  const { control, gitOn, github } = createStepProxies(previewPolicy(loaded.policy));
  const branch = createBranchName({ proposalId, studyId: proposal.study?.id ?? null });
  const result: PreviewResult = {
    proposalId,
    branch,
    base: repo.baseBranch,
    baseCommit: null,
    adoptsCommit: null,
    paramsPath: null,
    diff: null,
    changes: [],
    title: null,
    body: null,
    chart: null,
    chartNote: null,
    prOptions: repo.prOptions,
    warnings: [],
    supersedes: [],
    wouldFail: null,
  };
  /** Runs one read step; a terminal failure ends the preview with it as the predicted failure. */
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      result.wouldFail = predicted(error, name);
      return undefined;
    }
  };

  const git = gitOn(await control('preview: claim a worker').claimGitWorker());
  const synced = await step('sync', () => git(`preview: sync ${repo.baseBranch}`).syncRepoCache({ repo }));
  if (synced === undefined) return result;
  result.baseCommit = synced.baseCommit;
  const tip = await step('branch_check', () =>
    git(`preview: check ${branch}`).checkBranch({ repo, branch, proposalId }),
  );
  if (tip === undefined) return result;
  result.adoptsCommit = tip.adoptCommit ?? null;
  const file = await step('path_check', () =>
    git('preview: read the params file').readParamsFile({
      repo,
      baseCommit: synced.baseCommit,
      configPath: proposal.configPath,
      templateName: proposal.templateName,
    }),
  );
  if (file === undefined) return result;
  result.paramsPath = file.path;
  const change = await step('apply_diff', () =>
    git('preview: apply the parameter changes').applyConfigDiff({
      paramsPath: file.path,
      text: file.text,
      diff: proposal.configDiff,
      declaredParams: proposal.declaredParams,
    }),
  );
  if (change === undefined) return result;
  result.changes = change.changes;

  const importance = proposal.study?.parameterImportance;
  if (proposal.study && importance && Object.keys(importance).length > 0) {
    const chart = await git('preview: render the chart').renderChartPreview({ importance });
    if (chart.ok) result.chart = { path: chartFilePath(proposal.study.id), pngBase64: chart.pngBase64 };
    else result.chartNote = `chart failed, importance table in the PR body instead: ${chart.reason}`;
  } else {
    result.chartNote = proposal.study ? 'study has no parameter importance' : 'manual proposal';
  }

  const pr = await step('open_pr', () =>
    github('preview: the PR as it would be sent').previewPullRequest({
      repo,
      proposalId,
      clusterId: proposal.clusterId,
      study: studySummaryOf(proposal.study, proposal.metricDelta),
      changes: change.changes,
      chartRendered: result.chart !== null,
      paramsPath: file.path,
      before: file.text,
      after: change.newText,
    }),
  );
  if (pr === undefined) return result;
  return { ...result, title: pr.title, body: pr.body, diff: pr.diff, warnings: pr.warnings, supersedes: pr.supersedes };
}

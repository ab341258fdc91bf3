// previewProposalWorkflow (docs/api.md "Preview"): what opening a proposal's PR would send and
// meet, without writing anything anywhere. It runs the open-PR steps that only read — load, sync
// the worker's repo cache, branch check, path check, apply diff — as the same activities a run
// uses, so a failure they predict is the one the run would hit; the chart is rendered into the
// result instead of a file; the title, body, diff and option warnings come from a forge activity
// that only reads. Steps that read different things run together (load and claim; sync, branch
// check and chart). No repo lock is taken: a run of the same repo goes on undisturbed.
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
  const first = createStepProxies(previewPolicy(DEFAULT_OPEN_PR_POLICY));
  // The load and the worker claim do not depend on each other: asked for together.
  const [loaded, queue] = await Promise.all([
    first.db('preview: load the proposal').loadProposal({ proposalId }),
    first.control('preview: claim a worker').claimGitWorker(),
  ]);
  // The API checked the proposal just before; one that changed since is reported as it is now.
  if ('notPending' in loaded) return { notPending: loaded.notPending };
  const { proposal } = loaded;
  const { repo } = proposal;
  const { gitOn, github } = createStepProxies(previewPolicy(loaded.policy));
  const git = gitOn(queue);
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
  /** One read step: its value, or the failure the run would record for it. */
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | { failed: PredictedFailure }> => {
    try {
      return { value: await fn() };
    } catch (error) {
      return { failed: predicted(error, name) };
    }
  };

  // Sync, branch check and chart read different things: run together, reported in step order.
  const importance = proposal.study?.parameterImportance;
  const study = proposal.study;
  const [synced, tip, chart] = await Promise.all([
    step('sync', () => git(`preview: sync ${repo.baseBranch}`).syncRepoCache({ repo })),
    step('branch_check', () => git(`preview: check ${branch}`).checkBranch({ repo, branch, proposalId })),
    study && importance && Object.keys(importance).length > 0
      ? git('preview: render the chart').renderChartPreview({ importance })
      : Promise.resolve(null),
  ]);
  if ('failed' in synced) return { ...result, wouldFail: synced.failed };
  result.baseCommit = synced.value.baseCommit;
  if ('failed' in tip) return { ...result, wouldFail: tip.failed };
  result.adoptsCommit = tip.value.adoptCommit ?? null;
  if (chart === null) result.chartNote = study ? 'study has no parameter importance' : 'manual proposal';
  else if (chart.ok && study) result.chart = { path: chartFilePath(study.id), pngBase64: chart.pngBase64 };
  else if (!chart.ok) result.chartNote = `chart failed, importance table in the PR body instead: ${chart.reason}`;

  const file = await step('path_check', () =>
    git('preview: read the params file').readParamsFile({
      repo,
      baseCommit: synced.value.baseCommit,
      configPath: proposal.configPath,
      templateName: proposal.templateName,
    }),
  );
  if ('failed' in file) return { ...result, wouldFail: file.failed };
  result.paramsPath = file.value.path;
  const change = await step('apply_diff', () =>
    git('preview: apply the parameter changes').applyConfigDiff({
      paramsPath: file.value.path,
      text: file.value.text,
      diff: proposal.configDiff,
      declaredParams: proposal.declaredParams,
    }),
  );
  if ('failed' in change) return { ...result, wouldFail: change.failed };
  result.changes = change.value.changes;

  const pr = await step('open_pr', () =>
    github('preview: the PR as it would be sent').previewPullRequest({
      repo,
      proposalId,
      clusterId: proposal.clusterId,
      study: studySummaryOf(proposal.study, proposal.metricDelta),
      changes: change.value.changes,
      chartRendered: result.chart !== null,
      paramsPath: file.value.path,
      before: file.value.text,
      after: change.value.newText,
    }),
  );
  if ('failed' in pr) return { ...result, wouldFail: pr.failed };
  const { title, body, diff, warnings, supersedes } = pr.value;
  return { ...result, title, body, diff, warnings, supersedes };
}

// reconcilePrStatesWorkflow (docs/architecture.md "PR lifecycle"): run by a Temporal Schedule, or for one config
// repo on an operator's request (POST /api/v1/config-repos/{id}/reconcile). Repos are reconciled
// one after the other, each in one activity that reads back from GitHub, with the repo's own
// token, every PR whose state may still change (open, or closed within the window); a repo that
// fails is logged and counted and does not stop the others. Counts are reported per repo.
import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import { metricSinks } from './metrics.js';
import type { ReconcileActivities } from '../activities/types.js';
import { NON_RETRYABLE_TYPES } from './activity-options.js';
import type { ReconcileInput, ReconcileSummary } from '../domain/reconcile-contracts.js';

const db = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
});
const github = proxyActivities<ReconcileActivities>({
  // One repo's PRs, read one by one: heartbeats carry the progress, so a retry resumes.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
});

export async function reconcilePrStatesWorkflow(input: ReconcileInput = {}): Promise<ReconcileSummary> {
  const repos = input.configRepoId === undefined ? await db.listReposToReconcile() : [input.configRepoId];
  const summary: ReconcileSummary = {
    repos: repos.length,
    checked: 0,
    unchanged: 0,
    corrected: 0,
    missing: 0,
    skipped: 0,
    perRepo: [],
    failedRepos: [],
    prunedDeliveries: 0,
  };
  for (const configRepoId of repos) {
    try {
      const { corrections, ...counts } = await github.reconcileRepoPrs({
        configRepoId,
        ...(input.proposalId === undefined ? {} : { proposalId: input.proposalId }),
      });
      for (const key of ['checked', 'unchanged', 'corrected', 'missing', 'skipped'] as const)
        summary[key] += counts[key];
      summary.perRepo.push({ configRepoId, ...counts });
      for (const c of corrections) log.info('corrected', { configRepoId, ...c });
      log.info('reconciled a config repo', { configRepoId, ...counts });
    } catch (error) {
      summary.failedRepos.push(configRepoId);
      const cause =
        error instanceof ActivityFailure && error.cause instanceof ApplicationFailure
          ? `${error.cause.type ?? 'Error'}: ${error.cause.message}`
          : String(error);
      log.warn('reconciliation of a config repo failed; the next run tries again', { configRepoId, cause });
    }
  }
  if (input.configRepoId === undefined) summary.prunedDeliveries = await db.pruneWebhookDeliveries();
  metricSinks.reconciled({
    scope: input.configRepoId === undefined ? 'scheduled' : input.proposalId === undefined ? 'repo' : 'pr',
    outcome: summary.failedRepos.length === 0 ? 'ok' : 'partial',
    read: summary.checked - summary.unchanged,
    notModified: summary.unchanged,
    corrected: summary.corrected,
    skipped: summary.skipped,
  });
  log.info('reconciliation done', { ...summary, perRepo: summary.perRepo.length });
  return summary;
}

// reconcilePrStatesWorkflow (SPEC §10, issue 13): run by a Temporal Schedule, or for one config
// repo on an operator's request (POST /api/v1/config-repos/{id}/reconcile). Repos are reconciled
// one after the other, each in one activity that reads its open PRs back from GitHub with the
// repo's own token; a repo that fails is logged and counted and does not stop the others.
import { ActivityFailure, ApplicationFailure, log, metricMeter, proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities } from '../activities/types.js';
import { NON_RETRYABLE_TYPES } from './activity-options.js';
import type { ReconcileInput, ReconcileSummary } from '../domain/reconcile-contracts.js';

const db = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '30 seconds', heartbeatTimeout: '10 seconds', scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});
const github = proxyActivities<ReconcileActivities>({
  // One repo's PRs, read one by one: heartbeats carry the progress, so a retry resumes.
  startToCloseTimeout: '30 minutes', heartbeatTimeout: '30 seconds', scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

export async function reconcilePrStatesWorkflow(input: ReconcileInput = {}): Promise<ReconcileSummary> {
  const repos = input.configRepoId === undefined ? await db.listReposWithOpenPrs() : [input.configRepoId];
  const summary: ReconcileSummary = { repos: repos.length, checked: 0, corrected: 0, missing: 0, failedRepos: [], prunedDeliveries: 0 };
  for (const configRepoId of repos) {
    try {
      const result = await github.reconcileRepoPrs({ configRepoId });
      summary.checked += result.checked;
      summary.corrected += result.corrected;
      summary.missing += result.missing;
      for (const c of result.corrections) log.info('corrected', { configRepoId, ...c });
    } catch (error) {
      summary.failedRepos.push(configRepoId);
      const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? `${error.cause.type ?? 'Error'}: ${error.cause.message}` : String(error);
      log.warn('reconciliation of a config repo failed; the next run tries again', { configRepoId, cause });
    }
  }
  if (input.configRepoId === undefined) summary.prunedDeliveries = await db.pruneWebhookDeliveries();
  const counter = (name: string, help: string) => metricMeter.createCounter(name, undefined, help);
  counter('relyloop_reconcile_runs', 'Reconciliation runs that ended, by scope (all repos or one) and outcome.')
    .add(1, { scope: input.configRepoId === undefined ? 'scheduled' : 'repo', outcome: summary.failedRepos.length === 0 ? 'ok' : 'partial' });
  counter('relyloop_reconcile_checked', 'PRs recorded open that a reconciliation read back from GitHub.').add(summary.checked);
  counter('relyloop_reconcile_corrections', 'Proposals whose pr_state a reconciliation corrected (a webhook was missed).').add(summary.corrected);
  log.info('reconciliation done', { ...summary });
  return summary;
}

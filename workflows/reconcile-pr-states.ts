// reconcilePrStatesWorkflow (SPEC §10, issue 13): run by a Temporal Schedule, or for one config
// repo on an operator's request (POST /api/v1/config-repos/{id}/reconcile). Repos are reconciled
// one after the other, each in one activity that reads back from GitHub, with the repo's own
// token, every PR whose state may still change (open, or closed within the window); a repo that
// fails is logged and counted and does not stop the others. Counts are reported per repo.
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
  const repos = input.configRepoId === undefined ? await db.listReposToReconcile() : [input.configRepoId];
  const summary: ReconcileSummary = { repos: repos.length, checked: 0, unchanged: 0, corrected: 0, missing: 0, skipped: 0, perRepo: [], failedRepos: [], prunedDeliveries: 0 };
  for (const configRepoId of repos) {
    try {
      const { corrections, ...counts } = await github.reconcileRepoPrs({ configRepoId, ...(input.proposalId === undefined ? {} : { proposalId: input.proposalId }) });
      for (const key of ['checked', 'unchanged', 'corrected', 'missing', 'skipped'] as const) summary[key] += counts[key];
      summary.perRepo.push({ configRepoId, ...counts });
      for (const c of corrections) log.info('corrected', { configRepoId, ...c });
      log.info('reconciled a config repo', { configRepoId, ...counts });
    } catch (error) {
      summary.failedRepos.push(configRepoId);
      const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? `${error.cause.type ?? 'Error'}: ${error.cause.message}` : String(error);
      log.warn('reconciliation of a config repo failed; the next run tries again', { configRepoId, cause });
    }
  }
  if (input.configRepoId === undefined) summary.prunedDeliveries = await db.pruneWebhookDeliveries();
  const counter = (name: string, help: string) => metricMeter.createCounter(name, undefined, help);
  counter('relyloop_reconcile_runs', 'Reconciliation runs that ended, by scope (all repos or one) and outcome.')
    .add(1, { scope: input.configRepoId === undefined ? 'scheduled' : input.proposalId === undefined ? 'repo' : 'pr', outcome: summary.failedRepos.length === 0 ? 'ok' : 'partial' });
  const checked = counter('relyloop_reconcile_checked', 'PRs a reconciliation read back from GitHub (recorded open, or closed within the window), by answer (read, or not_modified: a 304).');
  checked.add(summary.checked - summary.unchanged, { answer: 'read' });
  checked.add(summary.unchanged, { answer: 'not_modified' });
  counter('relyloop_reconcile_corrections', 'Proposals whose pr_state a reconciliation corrected (a webhook was missed).').add(summary.corrected);
  counter('relyloop_reconcile_skipped', 'PRs recorded closed for longer than RELYLOOP_RECONCILE_CLOSED_WINDOW, which a reconciliation no longer reads back.').add(summary.skipped);
  log.info('reconciliation done', { ...summary, perRepo: summary.perRepo.length });
  return summary;
}

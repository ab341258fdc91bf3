// Database steps of openPrWorkflow (docs/architecture.md "The open-PR workflow" steps 1, 3, 14 and
// the failure record) over the data access in db/proposals.ts. The two writes are conditional on
// `status = 'pending'`, so an operator's rejection always wins and pr_open_error never overwrites a
// rejection; both are idempotent, so a retry after an attempt whose write committed recognises its
// own write.
import type { Database } from '../../db/database.js';
import { repoRefOf } from '../../db/config-repos.js';
import {
  findProposalForWorkflow,
  isProposalPending,
  markProposalPrOpened,
  setProposalPrOpenError,
} from '../../db/proposals.js';
import { AppError } from '../../domain/errors.js';
import type { OpenPrPolicy } from '../../domain/open-pr-contracts.js';
import { readConfigDiff, readMetricDelta, readParameterImportance } from '../../domain/stored-json.js';
import type { Redactor } from '../../domain/redact.js';
import type { WorkerMetrics } from '../../runtime/worker-metrics.js';
import type { ProposalContext } from '../types.js';

export interface DbActivityDeps {
  db: Database;
  redactor: Redactor;
  /** This worker's timeouts and retry budgets, handed to the workflow by `loadProposal`. */
  policy: OpenPrPolicy;
  /** Runs that opened a PR or failed are counted here, where the proposal row changes. */
  metrics?: Pick<WorkerMetrics, 'runEnded'>;
}

/** pr_open_error is bounded so a pathological message cannot bloat the row. */
const MAX_ERROR_LENGTH = 4_000;

export function createDbActivities({ db, redactor, policy, metrics }: DbActivityDeps) {
  return {
    async loadProposal({
      proposalId,
    }: {
      proposalId: string;
    }): Promise<{ proposal: ProposalContext; policy: OpenPrPolicy } | { notPending: string }> {
      const p = await findProposalForWorkflow(db, proposalId);
      if (!p) throw new AppError({ code: 'PROPOSAL_NOT_FOUND', message: `proposal ${proposalId} does not exist` });
      if (p.status !== 'pending') return { notPending: p.status };
      const repo = p.cluster.configRepo;
      if (!repo)
        throw new AppError({
          code: 'CLUSTER_HAS_NO_CONFIG_REPO',
          message: `cluster ${p.cluster.name} has no config repo`,
        });
      if (!p.cluster.configPath)
        throw new AppError({ code: 'CONFIG_PATH_INVALID', message: `cluster ${p.cluster.name} has no config_path` });
      const s = p.study;
      const proposal: ProposalContext = {
        proposalId: p.id,
        status: p.status,
        clusterId: p.clusterId,
        clusterName: p.cluster.name,
        templateName: p.template.name,
        declaredParams: p.template.declaredParams,
        configPath: p.cluster.configPath,
        repo: repoRefOf(repo),
        study: s && {
          id: s.id,
          name: s.name,
          metric: s.metric,
          baselineMetric: s.baselineMetric,
          bestMetric: s.bestMetric,
          parameterImportance: readParameterImportance(s.parameterImportance),
          suggestedFollowups: s.suggestedFollowups,
        },
        configDiff: readConfigDiff(p.configDiff),
        metricDelta: readMetricDelta(p.metricDelta),
      };
      return { proposal, policy };
    },

    isProposalPending: ({ proposalId }: { proposalId: string }) => isProposalPending(db, proposalId),

    async markProposalOpened({
      proposalId,
      prUrl,
      prNumber,
      branch,
      configPath,
    }: {
      proposalId: string;
      prUrl: string;
      prNumber: number;
      branch: string;
      /** The params file the PR edits (absent in runs of before supersede: never superseded). */
      configPath?: string;
    }) {
      const marked = await markProposalPrOpened(db, {
        id: proposalId,
        prUrl,
        prNumber,
        branch,
        configPath: configPath ?? null,
      });
      // Once per PR: only the write that moved the row counts, never a retry or a reset's re-run.
      if (marked.outcome === 'marked') metrics?.runEnded('opened');
      return marked;
    },

    async recordPrOpenError({
      proposalId,
      error,
      keepEarlier,
    }: {
      proposalId: string;
      error: string;
      keepEarlier?: boolean;
    }) {
      const recorded = await setProposalPrOpenError(
        db,
        proposalId,
        redactor.redactString(error).slice(0, MAX_ERROR_LENGTH),
        { keepEarlier },
      );
      // The error is `CODE: detail`; a failure the row no longer takes (rejected, opened) is no failure.
      if (recorded.outcome !== 'not_pending') metrics?.runEnded('failed', error.split(':', 1)[0]);
      return recorded;
    },
  };
}

// Database steps of openPrWorkflow (SPEC §5 steps 1, 3, 14 and the failure record). The two
// writes are conditional on `status = 'pending'`, so an operator's rejection always wins: zero
// rows updated means "rejected meanwhile", and pr_open_error never overwrites a rejection.
import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/database.js';
import type { ConfigDiff } from '../../domain/params-diff.js';
import type { Redactor } from '../../domain/redact.js';
import type { ProposalContext } from '../types.js';

export interface DbActivityDeps {
  db: Database;
  redactor: Redactor;
}

/** pr_open_error is bounded so a pathological message cannot bloat the row. */
const MAX_ERROR_LENGTH = 4_000;

export function createDbActivities({ db, redactor }: DbActivityDeps) {
  return {
    async loadProposal({ proposalId }: { proposalId: string }): Promise<ProposalContext | { notPending: string }> {
      const p = await db.prisma.proposal.findUnique({
        where: { id: proposalId },
        include: { cluster: { include: { configRepo: true } }, template: true, study: true },
      });
      if (!p) throw ApplicationFailure.nonRetryable(`proposal ${proposalId} does not exist`, 'PROPOSAL_NOT_FOUND');
      if (p.status !== 'pending') return { notPending: p.status };
      const repo = p.cluster.configRepo;
      if (!repo) throw ApplicationFailure.nonRetryable(`cluster ${p.cluster.name} has no config repo`, 'CLUSTER_HAS_NO_CONFIG_REPO');
      if (!p.cluster.configPath) throw ApplicationFailure.nonRetryable(`cluster ${p.cluster.name} has no config_path`, 'CONFIG_PATH_INVALID');
      const s = p.study;
      return {
        proposalId: p.id,
        status: p.status,
        clusterId: p.clusterId,
        clusterName: p.cluster.name,
        templateName: p.template.name,
        declaredParams: p.template.declaredParams,
        configPath: p.cluster.configPath,
        repo: { configRepoId: repo.id, repoUrl: repo.repoUrl, authRef: repo.authRef, baseBranch: repo.prBaseBranch },
        study: s && {
          id: s.id, name: s.name, metric: s.metric, baselineMetric: s.baselineMetric, bestMetric: s.bestMetric,
          parameterImportance: (s.parameterImportance as Record<string, number> | null) ?? null,
          suggestedFollowups: s.suggestedFollowups,
        },
        configDiff: p.configDiff as unknown as ConfigDiff,
        metricDelta: (p.metricDelta as ProposalContext['metricDelta']) ?? null,
      };
    },

    async isProposalPending({ proposalId }: { proposalId: string }): Promise<boolean> {
      const p = await db.prisma.proposal.findUnique({ where: { id: proposalId }, select: { status: true } });
      return p?.status === 'pending';
    },

    async markProposalOpened(input: { proposalId: string; prUrl: string; prNumber: number; branch: string }): Promise<boolean> {
      const { count } = await db.prisma.proposal.updateMany({
        where: { id: input.proposalId, status: 'pending' },
        data: { status: 'pr_opened', prUrl: input.prUrl, prNumber: input.prNumber, prBranch: input.branch, prState: 'open', prOpenError: null },
      });
      return count === 1;
    },

    async recordPrOpenError({ proposalId, error }: { proposalId: string; error: string }): Promise<boolean> {
      const { count } = await db.prisma.proposal.updateMany({
        where: { id: proposalId, status: 'pending' },
        data: { prOpenError: redactor.redactString(error).slice(0, MAX_ERROR_LENGTH) },
      });
      return count === 1;
    },
  };
}

// Data access for proposals (SPEC §3). Reject is one conditional UPDATE (`WHERE status =
// 'pending'`), so of two concurrent rejects, or a reject racing the workflow's mark-opened
// (SPEC §5 step 14), exactly one wins.
import type { Proposal } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ColumnFilter, type ListedPage, type PageRequest } from './paging.js';

export type { Proposal };

export type ProposalStatus = Proposal['status'];

// Type aliases, not interfaces: Prisma's JSON input type needs an implicit index signature.
export type ConfigDiffEntry = {
  from: string | number | boolean | null;
  to: string | number | boolean | null;
};

export type MetricDeltaEntry = {
  baseline: number | null;
  achieved: number | null;
  delta_pct: number | null;
};

export interface NewProposal {
  clusterId: string;
  templateId: string;
  studyId: string | null;
  configDiff: Record<string, ConfigDiffEntry>;
  metricDelta: Record<string, MetricDeltaEntry> | null;
}

export async function findProposal(db: Database, id: string): Promise<Proposal | undefined> {
  return (await db.prisma.proposal.findUnique({ where: { id } })) ?? undefined;
}

export async function insertProposal(db: Database, input: NewProposal): Promise<Proposal> {
  const { metricDelta, ...rest } = input;
  return db.prisma.proposal.create({ data: { ...rest, ...(metricDelta === null ? {} : { metricDelta }) } });
}

/** Rejects a pending proposal; `not_pending` when it is in any other state (or vanished). */
export async function rejectProposal(db: Database, id: string, reason: string | null): Promise<Proposal | 'not_found' | 'not_pending'> {
  const { count } = await db.prisma.proposal.updateMany({
    where: { id, status: 'pending' },
    data: { status: 'rejected', rejectedReason: reason },
  });
  const row = await findProposal(db, id);
  if (row === undefined) return 'not_found';
  return count === 1 ? row : 'not_pending';
}

export async function listProposals(
  db: Database,
  page: PageRequest & { status?: ProposalStatus; clusterId?: string },
): Promise<ListedPage<Proposal>> {
  const filters: ColumnFilter[] = [];
  if (page.status !== undefined) filters.push({ column: 'status', value: page.status, cast: 'proposal_status' });
  if (page.clusterId !== undefined) filters.push({ column: 'cluster_id', value: page.clusterId, cast: 'uuid' });
  const keys = await listKeyset(db.sql, { table: 'proposals', filters, after: page.after, limit: page.limit });
  const rows = await db.prisma.proposal.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

/** A proposal with its cluster and the cluster's config repo (open_pr preflight). */
export async function findProposalWithRepo(db: Database, id: string) {
  return (await db.prisma.proposal.findUnique({ where: { id }, include: { cluster: { include: { configRepo: true } } } })) ?? undefined;
}

/** Everything openPrWorkflow's `load` step needs (SPEC §5 step 1). */
export async function findProposalForWorkflow(db: Database, id: string) {
  return (await db.prisma.proposal.findUnique({
    where: { id },
    include: { cluster: { include: { configRepo: true } }, template: true, study: true },
  })) ?? undefined;
}

export async function isProposalPending(db: Database, id: string): Promise<boolean> {
  return (await db.prisma.proposal.findUnique({ where: { id }, select: { status: true } }))?.status === 'pending';
}

/**
 * SPEC §5 step 14: pending → pr_opened with the PR's url, number and branch, clearing an earlier
 * error. False when the proposal is no longer pending (rejected meanwhile): nothing is written.
 */
export async function markProposalPrOpened(db: Database, input: { id: string; prUrl: string; prNumber: number; branch: string }): Promise<boolean> {
  const { count } = await db.prisma.proposal.updateMany({
    where: { id: input.id, status: 'pending' },
    data: { status: 'pr_opened', prUrl: input.prUrl, prNumber: input.prNumber, prBranch: input.branch, prState: 'open', prOpenError: null },
  });
  return count === 1;
}

/** Records a (redacted) terminal failure; never over a rejection or an opened PR. */
export async function setProposalPrOpenError(db: Database, id: string, error: string): Promise<boolean> {
  const { count } = await db.prisma.proposal.updateMany({ where: { id, status: 'pending' }, data: { prOpenError: error } });
  return count === 1;
}

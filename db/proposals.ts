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

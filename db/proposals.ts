// Data access for proposals (docs/architecture.md "Data"). Reject is one conditional UPDATE (`WHERE status =
// 'pending'`), so of two concurrent rejects, or a reject racing the workflow's mark-opened
// (docs/architecture.md "The open-PR workflow" step 14), exactly one wins.
import type { Proposal } from '../generated/prisma/client.js';
import type { MetricDelta } from '../domain/metric-delta.js';
import type { ConfigDiff } from '../domain/params-diff.js';
import { ACTIVE_MERGE_STATES } from '../domain/merge-contracts.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ColumnFilter, type ListedPage, type PageRequest } from './paging.js';

export type { Proposal };

export type ProposalStatus = Proposal['status'];

export interface NewProposal {
  clusterId: string;
  templateId: string;
  studyId: string | null;
  configDiff: ConfigDiff;
  metricDelta: MetricDelta | null;
}

export async function findProposal(db: Database, id: string): Promise<Proposal | undefined> {
  return (await db.prisma.proposal.findUnique({ where: { id } })) ?? undefined;
}

export async function insertProposal(db: Database, input: NewProposal): Promise<Proposal> {
  const { metricDelta, ...rest } = input;
  return db.prisma.proposal.create({ data: { ...rest, ...(metricDelta === null ? {} : { metricDelta }) } });
}

/**
 * Rejects a pending proposal — or a `pr_opened` one whose PR is open and still waiting to be
 * merged when green (the wait then stops and closes it). `not_pending` in any other state (or
 * vanished); `previous` says which it was.
 */
export async function rejectProposal(
  db: Database,
  id: string,
  reason: string | null,
): Promise<{ row: Proposal; previous: 'pending' | 'pr_opened' } | 'not_found' | 'not_pending'> {
  const [changed] = await db.sql.query<{ previous: 'pending' | 'pr_opened' }>(
    `WITH before AS (SELECT id, status FROM proposals WHERE id = $1::uuid FOR UPDATE)
     UPDATE proposals p SET status = 'rejected', rejected_reason = $2, updated_at = now()
       FROM before
      WHERE p.id = before.id
        AND (before.status = 'pending'
             OR (before.status = 'pr_opened' AND p.pr_state = 'open' AND p.merge_state = ANY($3::text[])))
      RETURNING before.status::text AS previous`,
    [id, reason, ACTIVE_MERGE_STATES],
  );
  const row = await findProposal(db, id);
  if (row === undefined) return 'not_found';
  return changed === undefined ? 'not_pending' : { row, previous: changed.previous };
}

export async function listProposals(
  db: Database,
  page: PageRequest & {
    status?: ProposalStatus;
    prState?: 'open' | 'closed' | 'merged';
    clusterId?: string;
    hasError?: boolean;
    errorCode?: string;
  },
): Promise<ListedPage<Proposal>> {
  const filters: ColumnFilter[] = [];
  if (page.status !== undefined) filters.push({ column: 'status', value: page.status, cast: 'proposal_status' });
  if (page.prState !== undefined) filters.push({ column: 'pr_state', value: page.prState, cast: 'pr_state' });
  if (page.clusterId !== undefined) filters.push({ column: 'cluster_id', value: page.clusterId, cast: 'uuid' });
  if (page.hasError !== undefined) filters.push({ column: 'pr_open_error', present: page.hasError });
  if (page.errorCode !== undefined) filters.push({ column: 'pr_open_error', code: page.errorCode });
  const keys = await listKeyset(db.sql, { table: 'proposals', filters, after: page.after, limit: page.limit });
  const rows = await db.prisma.proposal.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

/** A proposal with its cluster and the cluster's config repo (open_pr preflight). */
export async function findProposalWithRepo(db: Database, id: string) {
  return (
    (await db.prisma.proposal.findUnique({ where: { id }, include: { cluster: { include: { configRepo: true } } } })) ??
    undefined
  );
}

/** Everything openPrWorkflow's `load` step needs (docs/architecture.md "The open-PR workflow" step 1). */
export async function findProposalForWorkflow(db: Database, id: string) {
  return (
    (await db.prisma.proposal.findUnique({
      where: { id },
      include: { cluster: { include: { configRepo: true } }, template: true, study: true },
    })) ?? undefined
  );
}

export async function isProposalPending(db: Database, id: string): Promise<boolean> {
  return (await db.prisma.proposal.findUnique({ where: { id }, select: { status: true } }))?.status === 'pending';
}

/** What step 14's write found; decided by the database, never by an earlier read. */
export type MarkOpenedOutcome =
  /** This call moved the proposal from pending to pr_opened. */
  | { outcome: 'marked' }
  /** The row already records this very PR: our own earlier attempt committed (its answer was lost). */
  | { outcome: 'already_recorded' }
  /** Rejected meanwhile, or it records another PR: the caller must not claim it. */
  | RowNotPending
  | { outcome: 'not_found' };

/** A proposal row that an UPDATE conditional on `pending` did not match, as it stands now. */
export interface RowNotPending {
  outcome: 'not_pending';
  status: ProposalStatus;
  prNumber: number | null;
  prBranch: string | null;
}

/** A fresh read of the row's status and PR (after any concurrent write committed); undefined: no row. */
async function readRowPr(db: Database, id: string): Promise<RowNotPending | undefined> {
  const [row] = await db.sql.query<{ status: ProposalStatus; pr_number: number | null; pr_branch: string | null }>(
    'SELECT status, pr_number, pr_branch FROM proposals WHERE id = $1',
    [id],
  );
  return row === undefined
    ? undefined
    : { outcome: 'not_pending', status: row.status, prNumber: row.pr_number, prBranch: row.pr_branch };
}

/**
 * docs/architecture.md "The open-PR workflow" step 14: pending → pr_opened with the PR's url,
 * number and branch, clearing an earlier error. Idempotent: one conditional UPDATE decides (a
 * concurrent reject waits for it or wins it); when it matched nothing, a fresh read — after any
 * concurrent write committed — tells our own earlier write (same PR number and branch) from a
 * rejection. Both are single autocommit statements, so an attempt abandoned mid-way either wrote
 * everything or nothing.
 */
export async function markProposalPrOpened(
  db: Database,
  input: { id: string; prUrl: string; prNumber: number; branch: string; configPath?: string | null },
): Promise<MarkOpenedOutcome> {
  const updated = await db.sql.query(
    `UPDATE proposals SET status = 'pr_opened', pr_url = $2, pr_number = $3, pr_branch = $4, pr_state = 'open',
       pr_config_path = $5, pr_open_error = NULL, updated_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING id`,
    [input.id, input.prUrl, input.prNumber, input.branch, input.configPath ?? null],
  );
  if (updated.length === 1) return { outcome: 'marked' };
  const row = await readRowPr(db, input.id);
  if (row === undefined) return { outcome: 'not_found' };
  if (row.status !== 'rejected' && row.prNumber === input.prNumber && row.prBranch === input.branch)
    return { outcome: 'already_recorded' };
  return row;
}

/** What recording a failure did: `kept_earlier` left an earlier run's cause in place. */
export type RecordFailureOutcome =
  | { outcome: 'recorded' | 'kept_earlier' }
  /** The proposal is no longer pending (rejected, or its PR was opened): nothing was written. */
  | RowNotPending;

/**
 * Records a (redacted) terminal failure; never over a rejection or an opened PR. With `keepEarlier`
 * a cause already recorded stays (a reset run stopped by a stale lock grant has no cause
 * of its own to report). Repeating it is harmless.
 */
export async function setProposalPrOpenError(
  db: Database,
  id: string,
  error: string,
  opts: { keepEarlier?: boolean } = {},
): Promise<RecordFailureOutcome> {
  const updated = await db.sql.query(
    `UPDATE proposals SET pr_open_error = $2, updated_at = now()
      WHERE id = $1 AND status = 'pending' AND (pr_open_error IS NULL OR NOT $3::boolean) RETURNING id`,
    [id, error, opts.keepEarlier === true],
  );
  if (updated.length === 1) return { outcome: 'recorded' };
  const row = await readRowPr(db, id);
  return row === undefined || row.status === 'pending' ? { outcome: 'kept_earlier' } : row;
}

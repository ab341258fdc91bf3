// Data access for superseding (docs/architecture.md "PR lifecycle"): the older proposals of a
// cluster whose open PR edits the params file a newer PR now edits, and the two writes that retire
// one. The newer proposal is recorded on the older row (`superseded_by`) before its PR is closed,
// so a retried attempt that finds the PR closed knows the close was its own; the status moves to
// `superseded` only after the close, in one conditional UPDATE that never touches a merged PR.
import type { Database } from './database.js';

export interface SupersedeCandidate {
  proposalId: string;
  prNumber: number;
  branch: string;
}

/** More than this many open PRs for one file is not a state this service creates; the rest wait for the next PR. */
const MAX_CANDIDATES = 50;

/**
 * The cluster's other proposals whose PR is open and edits `paramsPath`, oldest first — and those
 * this proposal already began to supersede (an earlier attempt's intent), whatever their state reads.
 */
export async function listSupersedeCandidates(
  db: Database,
  input: { proposalId: string; clusterId: string; paramsPath: string },
): Promise<SupersedeCandidate[]> {
  const rows = await db.sql.query<{ id: string; pr_number: number; pr_branch: string }>(
    `SELECT id, pr_number, pr_branch FROM proposals
      WHERE cluster_id = $2::uuid AND id <> $1::uuid AND status = 'pr_opened'
        AND pr_number IS NOT NULL AND pr_branch IS NOT NULL AND pr_config_path = $3
        AND (pr_state = 'open' OR superseded_by = $1::uuid)
      ORDER BY created_at, id LIMIT ${MAX_CANDIDATES}`,
    [input.proposalId, input.clusterId, input.paramsPath],
  );
  return rows.map((r) => ({ proposalId: r.id, prNumber: r.pr_number, branch: r.pr_branch }));
}

/** Records that `by` is superseding the proposal, before its PR is closed; false when it is no longer `pr_opened`. */
export async function recordSupersedeIntent(db: Database, proposalId: string, by: string): Promise<boolean> {
  const rows = await db.sql.query(
    `UPDATE proposals SET superseded_by = $2::uuid, updated_at = now()
      WHERE id = $1::uuid AND status = 'pr_opened' AND superseded_by IS DISTINCT FROM $2::uuid RETURNING id`,
    [proposalId, by],
  );
  if (rows.length === 1) return true;
  const [row] = await db.sql.query<{ ok: boolean }>(
    `SELECT status = 'pr_opened' AS ok FROM proposals WHERE id = $1::uuid`,
    [proposalId],
  );
  return row?.ok === true;
}

/** Drops the intent (its PR turned out merged, or the close was refused): the proposal stays as it was. */
export async function dropSupersedeIntent(db: Database, proposalId: string, by: string): Promise<void> {
  await db.sql.query(
    `UPDATE proposals SET superseded_by = NULL, updated_at = now()
      WHERE id = $1::uuid AND superseded_by = $2::uuid AND status = 'pr_opened'`,
    [proposalId, by],
  );
}

/**
 * pr_opened → superseded with the PR recorded closed at the forge's time of the close (never
 * backwards: a later fact already recorded stands). Repeating it changes nothing; a merged PR is
 * never matched.
 */
export async function markSuperseded(
  db: Database,
  input: { proposalId: string; by: string; closedAt: Date },
): Promise<'superseded' | 'already' | 'not_pr_opened'> {
  const rows = await db.sql.query(
    `UPDATE proposals SET status = 'superseded', pr_state = 'closed',
       pr_state_at = CASE WHEN pr_state_at IS NULL OR pr_state_at < $3 THEN $3 ELSE pr_state_at END,
       updated_at = now()
      WHERE id = $1::uuid AND status = 'pr_opened' AND superseded_by = $2::uuid
        AND pr_state IS DISTINCT FROM 'merged' RETURNING id`,
    [input.proposalId, input.by, input.closedAt],
  );
  if (rows.length === 1) return 'superseded';
  const [row] = await db.sql.query<{ status: string; superseded_by: string | null }>(
    'SELECT status::text AS status, superseded_by FROM proposals WHERE id = $1::uuid',
    [input.proposalId],
  );
  return row?.status === 'superseded' && row.superseded_by === input.by ? 'already' : 'not_pr_opened';
}

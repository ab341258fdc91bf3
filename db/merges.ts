// Data access for merge when green (docs/architecture.md "Merge when green"): where merging a
// proposal's PR stands, and which proposals a webhook about checks or a PR concerns.
import { ACTIVE_MERGE_STATES, type MergeState } from '../domain/merge-contracts.js';
import type { Database } from './database.js';
import type { SqlScope } from './sql.js';

/** Records the merge state and its note; repeating it changes nothing. */
export async function recordMergeState(
  db: Database,
  input: { proposalId: string; state: MergeState; note: string | null },
): Promise<void> {
  await db.sql.query(
    `UPDATE proposals SET merge_state = $2, merge_note = $3, updated_at = now()
      WHERE id = $1::uuid AND (merge_state IS DISTINCT FROM $2 OR merge_note IS DISTINCT FROM $3)`,
    [input.proposalId, input.state, input.note],
  );
}

/**
 * The proposals of these config repos whose merge is still in progress and whose PR is one of
 * `prNumbers` or on one of `branches`: the merge waits a webhook about checks should wake.
 */
export async function findActiveMerges(
  db: SqlScope,
  input: { configRepoIds: readonly string[]; prNumbers: readonly number[]; branches: readonly string[] },
): Promise<string[]> {
  if (input.prNumbers.length + input.branches.length === 0) return [];
  const rows = await db.sql.query<{ id: string }>(
    `SELECT p.id FROM proposals p JOIN clusters c ON c.id = p.cluster_id
      WHERE c.config_repo_id = ANY($1::uuid[]) AND p.merge_state = ANY($2::text[])
        AND (p.pr_number = ANY($3::int[]) OR p.pr_branch = ANY($4::text[]))
      ORDER BY p.id LIMIT 50`,
    [input.configRepoIds, ACTIVE_MERGE_STATES, input.prNumbers, input.branches],
  );
  return rows.map((r) => r.id);
}

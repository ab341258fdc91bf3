// GitHub write pacing shared by every process that uses a token (domain/github-pacing.ts has the
// rules and their sources). A write takes the token's turn with one atomic upsert of the token's
// row, which succeeds only when no write is unanswered (`in_flight_until`: a lease its writer
// renews while the request is in flight, so it lapses within seconds when the writer's process
// dies), the gap has passed since the last answer (`next_write_at`) and the content budget allows
// (`content_tat`); when it does not, the same statement says how long to wait. One round trip per
// attempt; the answer frees the turn.
import {
  contentBudget,
  GITHUB_PACING_RULES,
  IN_FLIGHT_POLL_MS,
  tokenPacingKey,
  WRITE_LEASE_MS,
  type GitHubPacer,
  type GitHubPacingRules,
} from '../domain/github-pacing.js';
import type { SqlSession } from './sql.js';

export function createDbGitHubPacer(sql: SqlSession, rules: GitHubPacingRules = GITHUB_PACING_RULES): GitHubPacer {
  const { emissionMs, toleranceMs } = contentBudget(rules);
  const serial = rules.writeGapMs > 0;
  return {
    async tryWrite(token, { createsContent }) {
      // ON CONFLICT locks the row and reads its latest version, so two processes never both take
      // the turn. The SELECT sees the row as it was before this statement: what the taker waits for.
      const [row] = await sql.query<{ taken: boolean; wait_ms: number | null }>(
        `WITH taken AS (
           INSERT INTO github_pacing AS p (token_hash, next_write_at, content_tat, in_flight_until)
           VALUES ($1, clock_timestamp(),
                   clock_timestamp() + CASE WHEN $2::boolean THEN make_interval(secs => $4::float8 / 1000) ELSE interval '0' END,
                   CASE WHEN $5::boolean THEN clock_timestamp() + make_interval(secs => $6::float8 / 1000) END)
           ON CONFLICT (token_hash) DO UPDATE SET
             in_flight_until = CASE WHEN $5::boolean THEN clock_timestamp() + make_interval(secs => $6::float8 / 1000) END,
             content_tat = CASE WHEN $2::boolean THEN GREATEST(p.content_tat, clock_timestamp()) + make_interval(secs => $4::float8 / 1000) ELSE p.content_tat END
           WHERE (p.in_flight_until IS NULL OR p.in_flight_until <= clock_timestamp())
             AND p.next_write_at <= clock_timestamp()
             AND (NOT $2::boolean OR p.content_tat - make_interval(secs => $3::float8 / 1000) <= clock_timestamp())
           RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM taken) AS taken,
           (SELECT GREATEST(
              EXTRACT(EPOCH FROM (next_write_at - clock_timestamp())) * 1000,
              CASE WHEN in_flight_until > clock_timestamp() THEN $7::float8 ELSE 0 END,
              CASE WHEN $2::boolean THEN EXTRACT(EPOCH FROM (content_tat - make_interval(secs => $3::float8 / 1000) - clock_timestamp())) * 1000 ELSE 0 END)
            FROM github_pacing WHERE token_hash = $1)::float8 AS wait_ms`,
        [tokenPacingKey(token), createsContent, toleranceMs, emissionMs, serial, WRITE_LEASE_MS, IN_FLIGHT_POLL_MS],
      );
      // Not taken, yet nothing to wait for: the turn was freed meanwhile; ask again at once.
      return row?.taken === true ? 0 : Math.max(1, Math.ceil(row?.wait_ms ?? 1));
    },
    async renewWrite(token) {
      if (!serial) return;
      await sql.query(
        `UPDATE github_pacing SET in_flight_until = clock_timestamp() + make_interval(secs => $2::float8 / 1000)
         WHERE token_hash = $1 AND in_flight_until IS NOT NULL`,
        [tokenPacingKey(token), WRITE_LEASE_MS],
      );
    },
    async writeDone(token) {
      if (!serial) return;
      await sql.query(
        `UPDATE github_pacing SET in_flight_until = NULL,
           next_write_at = GREATEST(next_write_at, clock_timestamp() + make_interval(secs => $2::float8 / 1000))
         WHERE token_hash = $1`,
        [tokenPacingKey(token), rules.writeGapMs],
      );
    },
  };
}

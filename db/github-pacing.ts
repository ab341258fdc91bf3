// GitHub write pacing shared by every process that uses a token (domain/github-pacing.ts has the
// rules and their sources). Each write reserves its slot with one atomic upsert of the token's row:
// one round trip per write.
import { contentBudget, GITHUB_PACING_RULES, tokenPacingKey, type GitHubPacer, type GitHubPacingRules } from '../domain/github-pacing.js';
import type { SqlSession } from './sql.js';

export function createDbGitHubPacer(sql: SqlSession, rules: GitHubPacingRules = GITHUB_PACING_RULES): GitHubPacer {
  const { emissionMs, toleranceMs } = contentBudget(rules);
  return {
    async reserveWrite(token, { createsContent }) {
      const key = tokenPacingKey(token);
      // A first write inserts the row with its own slot taken; later ones update it. ON CONFLICT
      // locks the row and reads its latest version, so two processes never get the same slot.
      const [row] = await sql.query<{ wait_ms: number }>(
        `INSERT INTO github_pacing AS p (token_hash, next_write_at, content_tat)
         VALUES ($1, clock_timestamp() + make_interval(secs => $3::float8 / 1000),
                 clock_timestamp() + CASE WHEN $2::boolean THEN make_interval(secs => $5::float8 / 1000) ELSE interval '0' END)
         ON CONFLICT (token_hash) DO UPDATE SET
           next_write_at = GREATEST(clock_timestamp(), p.next_write_at, CASE WHEN $2::boolean THEN p.content_tat - make_interval(secs => $4::float8 / 1000) ELSE p.next_write_at END)
             + make_interval(secs => $3::float8 / 1000),
           content_tat = CASE WHEN $2::boolean
             THEN GREATEST(p.content_tat, clock_timestamp(), p.next_write_at, p.content_tat - make_interval(secs => $4::float8 / 1000)) + make_interval(secs => $5::float8 / 1000)
             ELSE p.content_tat END
         RETURNING GREATEST(0, EXTRACT(EPOCH FROM (p.next_write_at - make_interval(secs => $3::float8 / 1000) - clock_timestamp())) * 1000)::float8 AS wait_ms`,
        [key, createsContent, rules.writeGapMs, toleranceMs, emissionMs],
      );
      return Math.ceil(row?.wait_ms ?? 0);
    },
    async writeDone(token) {
      if (rules.writeGapMs <= 0) return;
      await sql.query(
        `UPDATE github_pacing SET next_write_at = GREATEST(next_write_at, clock_timestamp() + make_interval(secs => $2::float8 / 1000)) WHERE token_hash = $1`,
        [tokenPacingKey(token), rules.writeGapMs],
      );
    },
  };
}

// GitHub write pacing shared by every process that uses a token (domain/github-pacing.ts has the
// rules and their sources). Each write reserves its slot with one atomic UPDATE on the token's row:
// its SET expressions read the row as locked by the UPDATE (re-read when a concurrent one committed
// first), so two processes never get the same slot.
import { contentBudget, GITHUB_PACING_RULES, tokenPacingKey, type GitHubPacer, type GitHubPacingRules } from '../domain/github-pacing.js';
import type { SqlSession } from './sql.js';

export function createDbGitHubPacer(sql: SqlSession, rules: GitHubPacingRules = GITHUB_PACING_RULES): GitHubPacer {
  const { emissionMs, toleranceMs } = contentBudget(rules);
  return {
    async reserveWrite(token, { createsContent }) {
      const key = tokenPacingKey(token);
      await sql.query('INSERT INTO github_pacing (token_hash, next_write_at, content_tat) VALUES ($1, clock_timestamp(), clock_timestamp()) ON CONFLICT (token_hash) DO NOTHING', [key]);
      const [row] = await sql.query<{ wait_ms: number }>(
        `UPDATE github_pacing SET
           next_write_at = GREATEST(clock_timestamp(), next_write_at, CASE WHEN $2::boolean THEN content_tat - make_interval(secs => $4::float8 / 1000) ELSE next_write_at END)
             + make_interval(secs => $3::float8 / 1000),
           content_tat = CASE WHEN $2
             THEN GREATEST(content_tat, clock_timestamp(), next_write_at, content_tat - make_interval(secs => $4::float8 / 1000)) + make_interval(secs => $5::float8 / 1000)
             ELSE content_tat END
         WHERE token_hash = $1
         RETURNING GREATEST(0, EXTRACT(EPOCH FROM (next_write_at - make_interval(secs => $3::float8 / 1000) - clock_timestamp())) * 1000)::float8 AS wait_ms`,
        [key, createsContent, rules.writeGapMs, toleranceMs, emissionMs],
      );
      return Math.ceil(row?.wait_ms ?? 0);
    },
  };
}

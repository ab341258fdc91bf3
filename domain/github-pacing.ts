// Pacing of GitHub writes per token (SPEC §9). GitHub's REST best practices ask, per user or app,
// that mutating requests be serial and at least one second apart, and its secondary rate limits cap
// content creation (PRs, comments) at about 80 a minute and 500 an hour:
//   https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#pause-between-mutative-requests
//   https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
// A write's slot is the later of now, the token's next free write time, and (for content) the
// earliest time the hourly budget allows: a GCRA (one more every window/N, bursts up to N). Pacers
// are keyed by a hash of the token, never the token. db/github-pacing.ts keeps the same state in
// the database, shared by every worker process; the in-memory pacer here serves one process.
import { createHash } from 'node:crypto';

export interface GitHubPacingRules {
  /** Gap between two writes of one token (GitHub: at least one second). */
  writeGapMs: number;
  /** Content-creating writes allowed per `contentWindowMs` (GitHub: 500 an hour). */
  contentPerWindow: number;
  contentWindowMs: number;
}

/** GitHub's published rules. 80 content writes a minute is implied by the one-second gap. */
export const GITHUB_PACING_RULES: GitHubPacingRules = { writeGapMs: 1_000, contentPerWindow: 500, contentWindowMs: 3_600_000 };

export interface GitHubPacer {
  /** Reserves the token's next write slot; resolves to how long to wait before sending (ms, ≥ 0). */
  reserveWrite(token: string, opts: { createsContent: boolean }): Promise<number>;
  /**
   * The write has its answer (or failed): the token's next write waits a gap from now. GitHub asks
   * for writes to be serial, and a write sent late (a busy event loop) would otherwise leave the
   * next one closer than the gap to it (issue 12 saw one refused at 0.9 s).
   */
  writeDone(token: string): Promise<void>;
}

/** The pacing key of a token: a SHA-256 prefix, so the token itself is never kept. */
export function tokenPacingKey(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 32);
}

/** The GCRA's emission interval and burst tolerance of the content budget. */
export function contentBudget(rules: GitHubPacingRules): { emissionMs: number; toleranceMs: number } {
  const emissionMs = rules.contentWindowMs / rules.contentPerWindow;
  return { emissionMs, toleranceMs: rules.contentWindowMs - emissionMs };
}

/** Pacing within this process only (tools and tests without the service database). */
export function createMemoryGitHubPacer(rules: GitHubPacingRules = GITHUB_PACING_RULES, now: () => number = Date.now): GitHubPacer {
  const { emissionMs, toleranceMs } = contentBudget(rules);
  const state = new Map<string, { nextWriteAt: number; contentTat: number }>();
  return {
    async reserveWrite(token, { createsContent }) {
      const key = tokenPacingKey(token);
      const t = now();
      const s = state.get(key) ?? { nextWriteAt: t, contentTat: t };
      const slot = Math.max(t, s.nextWriteAt, createsContent ? s.contentTat - toleranceMs : -Infinity);
      state.set(key, { nextWriteAt: slot + rules.writeGapMs, contentTat: createsContent ? Math.max(s.contentTat, slot) + emissionMs : s.contentTat });
      return slot - t;
    },
    async writeDone(token) {
      const s = state.get(tokenPacingKey(token));
      if (s !== undefined) s.nextWriteAt = Math.max(s.nextWriteAt, now() + rules.writeGapMs);
    },
  };
}

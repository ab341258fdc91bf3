// Pacing of GitHub writes per token (docs/architecture.md "Forge behaviour"). GitHub's REST best
// practices ask, per user or app, that mutating requests be serial and at least one second apart,
// and its secondary rate limits cap content creation (PRs, comments) at about 80 a minute and 500
// an hour:
// https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#pause-between-mutative-requests
//   https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
// A write takes the token's turn when no write of it is unanswered, the gap has passed since the
// last answer, and (for content) the hourly budget allows: a GCRA (one more every window/N, bursts
// up to N). So writes are serial, each sent a gap after the previous one's answer. Pacers
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
export const GITHUB_PACING_RULES: GitHubPacingRules = {
  writeGapMs: 1_000,
  contentPerWindow: 500,
  contentWindowMs: 3_600_000,
};

/**
 * Gitea and Forgejo publish no write limits: no gap by default (RELYLOOP_GITEA_WRITE_GAP
 * sets one, making the token's writes serial) and a content budget no service run reaches.
 */
export const GITEA_PACING_RULES: GitHubPacingRules = {
  writeGapMs: 0,
  contentPerWindow: 1_000_000,
  contentWindowMs: 3_600_000,
};

export interface GitHubPacer {
  /**
   * Takes the token's turn to write, when it is free: no write of the token is unanswered, the gap
   * has passed since the last answer, and the content budget allows. Resolves to 0 when the turn
   * is taken (send now, then call writeDone), or to how long to wait before asking again (ms).
   * With a gap of 0 writes are not serial (pacing off: a local sandbox).
   */
  tryWrite(token: string, opts: { createsContent: boolean }): Promise<number>;
  /**
   * The write has its answer (or failed): the turn is free, and the token's next write waits the
   * gap from now. GitHub asks for writes to be serial; a slot fixed in advance would let a write
   * answered late be followed closer than the gap (707 ms was measured).
   */
  writeDone(token: string): Promise<void>;
  /** The write is still in flight: its turn is kept for another WRITE_LEASE_MS. */
  renewWrite(token: string): Promise<void>;
}

/**
 * The turn is a lease the writer renews every WRITE_LEASE_RENEW_MS while its request is in flight
 * (however long its timeouts and in-place retries take); a writer whose process died stops
 * renewing, and the turn is free again within WRITE_LEASE_MS — a retried step waits seconds, not
 * minutes (the crash matrix kills a worker right after GitHub accepted its write).
 */
export const WRITE_LEASE_MS = 5_000;
export const WRITE_LEASE_RENEW_MS = 1_500;

/** While a write is unanswered, the next writer asks again this often (the gap then counts from the answer). */
export const IN_FLIGHT_POLL_MS = 100;

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
export function createMemoryGitHubPacer(
  rules: GitHubPacingRules = GITHUB_PACING_RULES,
  now: () => number = Date.now,
): GitHubPacer {
  const { emissionMs, toleranceMs } = contentBudget(rules);
  const serial = rules.writeGapMs > 0;
  const state = new Map<string, { nextWriteAt: number; contentTat: number; inFlightUntil: number }>();
  return {
    async tryWrite(token, { createsContent }) {
      const key = tokenPacingKey(token);
      const t = now();
      const s = state.get(key) ?? { nextWriteAt: t, contentTat: t, inFlightUntil: -Infinity };
      const inFlight = serial && s.inFlightUntil > t;
      const wait = Math.max(
        s.nextWriteAt - t,
        inFlight ? IN_FLIGHT_POLL_MS : 0,
        createsContent ? s.contentTat - toleranceMs - t : 0,
      );
      if (wait > 0) return Math.ceil(wait);
      state.set(key, {
        nextWriteAt: t,
        contentTat: createsContent ? Math.max(s.contentTat, t) + emissionMs : s.contentTat,
        inFlightUntil: serial ? t + WRITE_LEASE_MS : -Infinity,
      });
      return 0;
    },
    async writeDone(token) {
      const s = state.get(tokenPacingKey(token));
      if (s === undefined || !serial) return;
      s.inFlightUntil = -Infinity;
      s.nextWriteAt = Math.max(s.nextWriteAt, now() + rules.writeGapMs);
    },
    async renewWrite(token) {
      const s = state.get(tokenPacingKey(token));
      if (s !== undefined && serial && s.inFlightUntil > -Infinity) s.inFlightUntil = now() + WRITE_LEASE_MS;
    },
  };
}

/**
 * Runs one write in the token's turn: waits (with `sleep`) until `pacer` gives the turn, keeps it
 * renewed while `send` runs (a dead process stops renewing and the turn lapses), and frees it when
 * the answer is in, so the next write counts its gap from this answer. Pacing bookkeeping never
 * turns a write that happened into a failure (`warn` is told instead).
 */
export async function withWriteTurn<T>(
  pacer: GitHubPacer,
  token: string,
  opts: { createsContent: boolean; sleep: (ms: number) => Promise<void>; warn: (msg: string) => void },
  send: () => Promise<T>,
): Promise<T> {
  const { createsContent } = opts;
  for (
    let waitMs = await pacer.tryWrite(token, { createsContent });
    waitMs > 0;
    waitMs = await pacer.tryWrite(token, { createsContent })
  ) {
    await opts.sleep(waitMs);
  }
  const renewing = setInterval(() => {
    pacer
      .renewWrite(token)
      .catch((error: unknown) => opts.warn(`write pacing: could not renew a write's turn: ${String(error)}`));
  }, WRITE_LEASE_RENEW_MS);
  try {
    return await send();
  } finally {
    clearInterval(renewing);
    await pacer
      .writeDone(token)
      .catch((error: unknown) => opts.warn(`write pacing: could not record the end of a write: ${String(error)}`));
  }
}

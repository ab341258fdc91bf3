// GitHub's REST rate limits, per token, from "Rate limits for the REST API"
// (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
// - Primary: a budget per hour (5,000 for a user token or an installation on github.com). Every
//   answer carries x-ratelimit-limit / -remaining / -used / -reset / -resource; once the budget is
//   spent the answer is 403 "API rate limit exceeded …" with x-ratelimit-remaining: 0.
// - Secondary: no more than 100 concurrent requests; no more than 80 content-generating requests
//   per minute and 500 per hour. Exceeding one is 403 "You have exceeded a secondary rate limit …",
//   with retry-after when GitHub knows how long to wait.
// - "Best practices" (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#pause-between-mutative-requests):
//   wait at least one second between mutative requests (POST, PATCH, PUT, DELETE) of one token.
//   GitHub enforces it through the secondary limits without publishing a threshold; the sandbox
//   enforces it exactly when `minWriteGapMs` is set, so a pacing regression shows.
import type { RateLimitSettings } from './types.js';

export const GITHUB_RATE_LIMITS: RateLimitSettings = {
  primaryPerHour: 5_000,
  contentPerMinute: 80,
  contentPerHour: 500,
  concurrent: 100,
  minWriteGapMs: 0,
};

const SECONDARY_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.';
const DOCS_PRIMARY = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits';
const DOCS_SECONDARY = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

interface TokenState {
  windowStart: number;
  used: number;
  inFlight: number;
  lastWriteAt: number;
  content: number[];
}

export interface Verdict {
  /** Headers every answer to this request carries. */
  headers: Record<string, string>;
  /** Set when a limit refuses the request. */
  refusal?: {
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, string>;
    limit: 'primary' | 'secondary';
  };
  /**
   * Call once the answer is sent (ends the request's concurrency slot) with its status: a 304 to
   * a conditional request does not count against the primary rate limit, as on GitHub.
   */
  done(status?: number): void;
}

export class RateLimiter {
  private readonly tokens = new Map<string, TokenState>();
  /** Refusals handed out, by limit (tests assert a well-paced client meets none). */
  readonly refusals: Record<string, number> = {};

  constructor(
    private settings: RateLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  configure(settings: Partial<RateLimitSettings>): void {
    this.settings = { ...this.settings, ...settings };
  }

  /** Admits (and counts) one authenticated REST request of `token`. */
  admit(token: string, method: string, contentCreating: boolean): Verdict {
    const now = this.now();
    const s = this.settings;
    let state = this.tokens.get(token);
    if (state === undefined || now - state.windowStart >= 3_600_000) {
      state = {
        windowStart: now,
        used: 0,
        inFlight: state?.inFlight ?? 0,
        lastWriteAt: state?.lastWriteAt ?? -Infinity,
        content: state?.content ?? [],
      };
      this.tokens.set(token, state);
    }
    const st = state;
    st.content = st.content.filter((t) => now - t < 3_600_000);
    const reset = Math.ceil((st.windowStart + 3_600_000) / 1000);
    const headers = () => ({
      'x-ratelimit-limit': String(s.primaryPerHour),
      'x-ratelimit-remaining': String(Math.max(s.primaryPerHour - st.used, 0)),
      'x-ratelimit-used': String(st.used),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core',
    });
    const refuse = (limit: 'primary' | 'secondary', reason: string, retryAfterS?: number): Verdict => {
      this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
      const message =
        limit === 'primary'
          ? 'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.'
          : SECONDARY_MESSAGE;
      return {
        headers: headers(),
        refusal: {
          status: 403,
          limit,
          headers: retryAfterS === undefined ? {} : { 'retry-after': String(retryAfterS) },
          body: { message, documentation_url: limit === 'primary' ? DOCS_PRIMARY : DOCS_SECONDARY, status: '403' },
        },
        done: () => undefined,
      };
    };

    if (st.used >= s.primaryPerHour) return refuse('primary', 'primary');
    st.used += 1;
    if (st.inFlight >= s.concurrent) return refuse('secondary', 'concurrent', 60);
    const write = WRITES.has(method.toUpperCase());
    if (write && s.minWriteGapMs > 0 && now - st.lastWriteAt < s.minWriteGapMs) {
      st.lastWriteAt = now;
      return refuse('secondary', 'write_gap', 60);
    }
    if (contentCreating) {
      const lastMinute = st.content.filter((t) => now - t < 60_000);
      if (lastMinute.length >= s.contentPerMinute)
        return refuse(
          'secondary',
          'content_per_minute',
          Math.ceil((60_000 - (now - (lastMinute[0] as number))) / 1000),
        );
      if (st.content.length >= s.contentPerHour)
        return refuse(
          'secondary',
          'content_per_hour',
          Math.ceil((3_600_000 - (now - (st.content[0] as number))) / 1000),
        );
      st.content.push(now);
    }
    if (write) st.lastWriteAt = now;
    st.inFlight += 1;
    let finished = false;
    return {
      headers: headers(),
      done: (status) => {
        if (!finished) st.inFlight -= 1;
        if (!finished && status === 304) st.used -= 1;
        finished = true;
      },
    };
  }
}

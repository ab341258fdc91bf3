// The one place Octokit is assembled (STYLE.md §5): @octokit/rest with plugin-retry (5xx and
// network errors) and plugin-throttling (rate-limit answers), writes paced per token by a
// GitHubPacer (domain/github-pacing.ts), the headers of SPEC §9, a per-attempt timeout, and logs
// routed to our redacting logger.
import Bottleneck from 'bottleneck';
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import {
  createMemoryGitHubPacer,
  GITHUB_PACING_RULES,
  tokenPacingKey,
  withWriteTurn,
  type GitHubPacer,
} from '../../domain/github-pacing.js';
import { activitySleep, currentCancellationSignal } from '../../runtime/activity-context.js';
import { rateLimitKind, rateLimitWaitMs, type FailureFacts } from './errors.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const GITHUB_ACCEPT = 'application/vnd.github+json';

const GitHubOctokit = Octokit.plugin(retry, throttling);
export type GitHubOctokit = InstanceType<typeof GitHubOctokit>;

/** Timing knobs. Production leaves them unset and gets GitHub's recommendations. */
export interface GitHubLimiterOptions {
  /** Gap between two writes of one token; GitHub's rule is 1 s (tests set 0). */
  writeMinTimeMs?: number;
  /** In-process retries of 5xx and network failures (plugin-retry; default 3). */
  retries?: number;
  /** Backoff unit of those retries: waits are 1, 4, 9 × this (default 1000 ms). */
  retryBackoffMs?: number;
  /** Longest rate-limit wait slept through in-process (default 5 s, SPEC §9). */
  rateLimitWaitThresholdMs?: number;
  /** In-process rate-limit retries before surfacing the wait (default 2). */
  maxRateLimitRetries?: number;
  /** Per-attempt timeout (default 30 s). */
  requestTimeoutMs?: number;
}

export interface OctokitLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface CreateOctokitOptions {
  apiBaseUrl: string;
  token: string;
  limiter?: GitHubLimiterOptions;
  /** Paces this token's writes; one in-memory pacer for this client when omitted. */
  pacer?: GitHubPacer;
  log?: OctokitLog;
}

const NO_LOG: OctokitLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Requests that create content (GitHub's secondary limits count them): a PR, a comment. */
const CREATES_CONTENT = /\/(pulls|comments)$/;
const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export function createOctokit({
  apiBaseUrl,
  token,
  limiter = {},
  pacer,
  log = NO_LOG,
}: CreateOctokitOptions): GitHubOctokit {
  const writes =
    pacer ??
    createMemoryGitHubPacer({
      ...GITHUB_PACING_RULES,
      writeGapMs: limiter.writeMinTimeMs ?? GITHUB_PACING_RULES.writeGapMs,
    });
  const threshold = limiter.rateLimitWaitThresholdMs ?? 5_000;
  const maxRateLimitRetries = limiter.maxRateLimitRetries ?? 2;
  const timeoutMs = limiter.requestTimeoutMs ?? 30_000;
  // Waits within the threshold are slept through; longer ones surface to the caller as a
  // retryable failure with the wait (SPEC §9: never hold a worker slot for a long wait).
  const shortWait =
    (kind: string) =>
    (retryAfterS: number, options: { method?: string; url?: string }, _o: unknown, retryCount: number): boolean => {
      const retryNow = retryAfterS * 1000 <= threshold && retryCount < maxRateLimitRetries;
      log.warn(
        `GitHub ${kind} rate limit on ${options.method ?? ''} ${options.url ?? ''}: wait ${retryAfterS} s, ${retryNow ? 'retrying in-process' : 'surfacing to the caller'}`,
      );
      return retryNow;
    };
  // The plugin's own write and notification limiters are module-global groups keyed by `id` (one
  // for every token on the same host, 3 s between any two PRs or comments in the process). This
  // client's writes are paced per token by `writes` instead; its groups here only keep one client's
  // writes serial.
  const groups = {
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
  };
  const octokit = new GitHubOctokit({
    auth: token,
    baseUrl: apiBaseUrl.replace(/\/+$/, ''),
    userAgent: 'relyloop-pr',
    log,
    request: { fetch: (url: string | URL, init?: RequestInit) => fetchWithin(timeoutMs, url, init) },
    // 429 is left to the rate-limit handling (Retry-After), not to blind backoff.
    retry: {
      retries: limiter.retries ?? 3,
      retryAfterBaseValue: limiter.retryBackoffMs ?? 1_000,
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle: {
      // The plugin's module-global read limiter (10 at a time) is keyed by this id: per token (its
      // hash), so one token's reads never queue another's.
      id: tokenPacingKey(token),
      ...groups,
      onRateLimit: shortWait('primary'),
      onSecondaryRateLimit: shortWait('secondary'),
    },
  });
  // plugin-throttling only recognises a secondary limit by its message and a primary one by
  // x-ratelimit-remaining; a 403/429 carrying just Retry-After gets the same short-wait policy here.
  octokit.hook.wrap('request', async (request, options) => {
    // The outermost layer runs in the calling activity's context: its cancellation aborts the
    // request (fetchWithin), wherever the limiters below schedule it.
    const cancelled = currentCancellationSignal();
    if (cancelled !== undefined) options.request = { ...options.request, signal: cancelled };
    // Sends, sleeping through a short Retry-After in place (a long one fails the attempt).
    const send = async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await request(options);
        } catch (error) {
          const facts = error as FailureFacts & { response?: { headers?: FailureFacts['headers'] } };
          const plain = {
            status: facts.status,
            message: String(facts.message),
            headers: facts.response?.headers ?? {},
          };
          const waitMs =
            rateLimitKind(plain) === 'retry-after' ? rateLimitWaitMs(plain, 'retry-after', Date.now()) : Infinity;
          if (waitMs > threshold || attempt >= maxRateLimitRetries) throw error;
          log.warn(`GitHub rate limit (Retry-After) on ${options.method} ${options.url}: retrying in ${waitMs} ms`);
          await activitySleep(waitMs);
        }
      }
    };
    const method = String(options.method).toUpperCase();
    if (!MUTATING.has(method)) return send();
    // The token's turn to write: no other write of it unanswered, the gap passed since the last
    // answer; kept while the request (and its in-place retries) runs, freed by its answer.
    const createsContent = method === 'POST' && CREATES_CONTENT.test(String(options.url));
    return withWriteTurn(
      writes,
      token,
      { createsContent, sleep: activitySleep, warn: (m) => log.warn(`GitHub ${m}`) },
      send,
    );
  });
  octokit.hook.before('request', (options) => {
    options.headers.accept = GITHUB_ACCEPT;
    options.headers['x-github-api-version'] = GITHUB_API_VERSION;
  });
  return octokit;
}

/**
 * One HTTP attempt: a fresh timeout each (a retried request must not inherit an expired signal),
 * and aborted by the caller's cancellation. A cancelled request fails as an AbortError, which
 * Octokit and its plugins pass through without retrying.
 */
async function fetchWithin(timeoutMs: number, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const cancelled = init.signal ?? undefined;
  const abortError = () => new DOMException('the request was cancelled (the activity was cancelled)', 'AbortError');
  if (cancelled?.aborted) throw abortError();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, {
      ...init,
      signal: cancelled === undefined ? timeout : AbortSignal.any([cancelled, timeout]),
    });
  } catch (error) {
    if (cancelled?.aborted) throw abortError();
    throw error;
  }
}

// The one place Octokit is assembled (STYLE.md §5): @octokit/rest with plugin-throttling, writes
// paced per token by a GitHubPacer (domain/github-pacing.ts), GitHub's API version headers, a
// per-request timeout, and logs routed to our redacting logger.
//
// Nothing here retries (docs/operations.md "Who retries what"): a network error, a timeout, a 5xx
// or a rate limit fails the request, the adapter classifies it (errors.ts), and the activity's
// Temporal retry policy tries the step again, after the wait GitHub asked for when it named one.
// plugin-throttling's part is to recognise rate-limit answers and log them, and to keep one
// token's reads within GitHub's concurrency advice; it never sleeps through a limit.
import Bottleneck from 'bottleneck';
import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import {
  createMemoryGitHubPacer,
  GITHUB_PACING_RULES,
  tokenPacingKey,
  withWriteTurn,
  type GitHubPacer,
} from '../../domain/github-pacing.js';
import { activitySleep, currentCancellationSignal } from '../../runtime/activity-context.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const GITHUB_ACCEPT = 'application/vnd.github+json';

const GitHubOctokit = Octokit.plugin(throttling);
export type GitHubOctokit = InstanceType<typeof GitHubOctokit>;

/** Timing knobs. Production leaves them unset and gets GitHub's recommendations. */
export interface GitHubLimiterOptions {
  /** Gap between two writes of one token; GitHub's rule is 1 s (tests set 0). */
  writeMinTimeMs?: number;
  /** Per-request timeout (default 30 s). */
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
  const timeoutMs = limiter.requestTimeoutMs ?? 30_000;
  // A rate-limit answer is logged and handed back: the activity fails with GitHub's wait as
  // Temporal's next retry delay, so no worker slot is held while waiting.
  const handBack =
    (kind: string) =>
    (retryAfterS: number, options: { method?: string; url?: string }): false => {
      log.warn(
        `GitHub ${kind} rate limit on ${options.method ?? ''} ${options.url ?? ''}: wait ${retryAfterS} s (retried by the step)`,
      );
      return false;
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
    throttle: {
      // The plugin's module-global read limiter (10 at a time) is keyed by this id: per token (its
      // hash), so one token's reads never queue another's.
      id: tokenPacingKey(token),
      ...groups,
      onRateLimit: handBack('primary'),
      onSecondaryRateLimit: handBack('secondary'),
    },
  });
  octokit.hook.wrap('request', async (request, options) => {
    // The outermost layer runs in the calling activity's context: its cancellation aborts the
    // request (fetchWithin), wherever the limiters below schedule it.
    const cancelled = currentCancellationSignal();
    if (cancelled !== undefined) options.request = { ...options.request, signal: cancelled };
    const method = String(options.method).toUpperCase();
    if (!MUTATING.has(method)) return await request(options);
    // The token's turn to write: no other write of it unanswered, the gap passed since the last
    // answer; kept while the request runs, freed by its answer.
    const createsContent = method === 'POST' && CREATES_CONTENT.test(String(options.url));
    return withWriteTurn(
      writes,
      token,
      { createsContent, sleep: activitySleep, warn: (m) => log.warn(`GitHub ${m}`) },
      async () => await request(options),
    );
  });
  octokit.hook.before('request', (options) => {
    options.headers.accept = GITHUB_ACCEPT;
    options.headers['x-github-api-version'] = GITHUB_API_VERSION;
  });
  return octokit;
}

/**
 * One HTTP request, cut off after `timeoutMs` and aborted by the caller's cancellation. A cancelled
 * request fails as an AbortError, which the activity reports as its cancellation.
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

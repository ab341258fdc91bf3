// The one place Octokit is assembled: @octokit/rest with plugin-retry and plugin-throttling (their
// parts below), writes paced per token by a GitHubPacer (domain/github-pacing.ts), GitHub's API
// version headers, a per-request timeout, and logs routed to our redacting logger.
//
// One retry layer per failure (docs/operations.md "Who retries what"). A network error, a timeout,
// a 5xx or a rate limit fails the request; the adapter classifies it (errors.ts) and the
// activity's Temporal retry policy tries the step again, after the wait GitHub asked for when it
// named one. Inside the request only GitHub's sub-second lag right after a write is waited out:
// plugin-retry does that, and nothing else (no retries by status). plugin-throttling's part is to
// recognise rate-limit answers and log them, and to keep one token's reads within GitHub's
// concurrency advice; it never sleeps through a limit. Its Bottleneck limiters start a job that
// is due now on the next turn of the event loop, not a 1 ms timer (scripts/patch-dependencies.mjs:
// three such timers per hop had a POST take 27 ms against a local server, 3 ms after).
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
import { isWriteLag } from './errors.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const GITHUB_ACCEPT = 'application/vnd.github+json';

/**
 * Marks GitHub's lag after a write (errors.ts `isWriteLag`) for plugin-retry to send the request
 * again: waits of 0.25, 0.5, then 1 s, at most LAG_RETRIES times (about 15 s in all). Registered
 * before plugin-retry, so its error hook sees the mark and its wrapper does the waiting.
 */
function writeLagRetries(octokit: Pick<Octokit, 'hook'>): void {
  octokit.hook.error('request', (error, options) => {
    if (isWriteLag(error)) {
      const marked = error as { request?: { request?: Record<string, unknown> } };
      if (marked.request !== undefined) {
        const retryCount = Number(options.request.retryCount ?? 0);
        marked.request.request = {
          ...marked.request.request,
          retries: LAG_RETRIES,
          retryAfter: Math.min(2 ** retryCount, 4),
        };
      }
    }
    throw error;
  });
}

/** Retries of a request GitHub answers with its lag after a write (docs/operations.md). */
export const LAG_RETRIES = 16;
/** plugin-retry's unit: `retryAfter` 1, 2, 4 are 0.25, 0.5 and 1 s. */
const LAG_RETRY_UNIT_MS = 250;

interface WriteTurnOptions {
  pacer: GitHubPacer;
  token: string;
  log: OctokitLog;
}

/**
 * Every send of a mutating request takes the token's write turn: no other write of the token
 * unanswered, the gap passed since the last answer; kept while the request runs, freed by its
 * answer. Registered first, so it is the innermost wrapper: a send plugin-retry repeats for the
 * write lag waits its turn like any other write.
 */
function writeTurns(octokit: Pick<Octokit, 'hook'>, options: Record<string, unknown>): void {
  const turns = options.writeTurns as WriteTurnOptions | undefined;
  if (turns === undefined) return;
  octokit.hook.wrap('request', async (request, req) => {
    const method = String(req.method).toUpperCase();
    // A GraphQL query is sent as a POST but writes nothing: only mutations take a write turn.
    const graphqlQuery =
      /\/graphql$/.test(String(req.url)) && !/^\s*mutation\b/.test(String((req as { query?: unknown }).query ?? ''));
    if (!MUTATING.has(method) || graphqlQuery) return await request(req);
    const createsContent = method === 'POST' && CREATES_CONTENT.test(String(req.url));
    return withWriteTurn(
      turns.pacer,
      turns.token,
      { createsContent, sleep: activitySleep, warn: (m) => turns.log.warn(`GitHub ${m}`) },
      async () => await request(req),
    );
  });
}

const GitHubOctokit = Octokit.plugin(writeTurns, writeLagRetries, retry, throttling);
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
    writeTurns: { pacer: writes, token, log } satisfies WriteTurnOptions,
    // No retries by status: only the write lag, marked by writeLagRetries, is sent again in place.
    retry: { retries: 0, retryAfterBaseValue: LAG_RETRY_UNIT_MS },
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
    // request (fetchWithin), wherever the limiters and retries below schedule it.
    const cancelled = currentCancellationSignal();
    if (cancelled !== undefined) options.request = { ...options.request, signal: cancelled };
    return await request(options);
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

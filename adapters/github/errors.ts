// Classification of GitHub REST failures into AppErrors. Terminal failures carry their workflow
// error code; everything else is a retryable GITHUB_API_FAILED, and a rate limit carries the wait
// GitHub asked for (`retryAfterMs`), which the activity hands to Temporal as `nextRetryDelay`
// (docs/operations.md "Who retries what").
import { AppError } from '../../domain/errors.js';
import type { Redactor } from '../../domain/redact.js';
import { accessHint, classifyTransportFailure } from '../../domain/transport-failures.js';

/** GitHub's advice for a secondary rate limit without Retry-After: wait at least a minute. */
export const SECONDARY_RATE_LIMIT_FALLBACK_MS = 60_000;

/** The parts of an Octokit RequestError (or a network error) the classification reads. */
export interface FailureFacts {
  status?: number;
  /** A network error's code (ECONNRESET, …), when the failure is not an HTTP answer. */
  code?: string;
  message: string;
  headers: Record<string, string | number | undefined>;
}

export type RateLimitKind = 'primary' | 'secondary' | 'retry-after';

/** Which rate limit a 403/429 is, if any (GitHub docs "Rate limits for the REST API"). */
export function rateLimitKind(facts: FailureFacts): RateLimitKind | null {
  if (facts.status !== 403 && facts.status !== 429) return null;
  if (/\bsecondary rate limit\b/i.test(facts.message)) return 'secondary';
  if (String(facts.headers['x-ratelimit-remaining']) === '0') return 'primary';
  if (facts.headers['retry-after'] !== undefined) return 'retry-after';
  // A 429 is always a rate limit, even without the usual markers.
  return facts.status === 429 ? 'secondary' : null;
}

/** How long GitHub asks us to wait before retrying a rate-limited call. */
export function rateLimitWaitMs(facts: FailureFacts, kind: RateLimitKind, nowMs: number): number {
  const retryAfter = Number(facts.headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && facts.headers['retry-after'] !== undefined)
    return retryAfter * 1000;
  const reset = Number(facts.headers['x-ratelimit-reset']);
  if (kind === 'primary' && Number.isFinite(reset) && reset > 0) return Math.max(reset * 1000 - nowMs, 0) + 1000;
  return SECONDARY_RATE_LIMIT_FALLBACK_MS;
}

/**
 * GitHub's lag right after a write: a branch just pushed is not yet visible to the PR API (422,
 * `head` invalid), or a PR just created is not yet known to the service an option call reaches
 * (422 "Could not resolve to a node"). It passes within a second or so.
 */
export function isWriteLag(error: unknown): boolean {
  return isHeadInvalid(error) || isNotResolvedYet(error);
}

/** GitHub's 422 for a head branch it does not know (or does not see yet). */
export function isHeadInvalid(error: unknown): boolean {
  if ((error as { status?: unknown }).status !== 422) return false;
  const errors = (error as { response?: { data?: { errors?: unknown } } }).response?.data?.errors;
  return (
    Array.isArray(errors) &&
    errors.some((e: { field?: unknown; code?: unknown }) => e.field === 'head' && e.code === 'invalid')
  );
}

function isNotResolvedYet(error: unknown): boolean {
  return (
    (error as { status?: unknown }).status === 422 &&
    /Could not resolve to a node/i.test(String((error as Error).message))
  );
}

/** Turns any failure of `operation` into an AppError with a redacted message. */
export function classifyGitHubFailure(error: unknown, operation: string, redactor: Redactor, nowMs: number): AppError {
  if (error instanceof AppError) return error;
  const facts = factsOf(error);
  const text = (detail: string) => redactor.redactString(`GitHub ${operation} failed: ${detail}`);
  const status = facts.status;
  const kind = rateLimitKind(facts);
  if (kind !== null) {
    const retryAfterMs = rateLimitWaitMs(facts, kind, nowMs);
    return new AppError({
      code: 'GITHUB_API_FAILED',
      message: text(`${status} rate limited (${kind}); retry in ${Math.ceil(retryAfterMs / 1000)} s: ${facts.message}`),
      retryable: true,
      retryAfterMs,
      upstreamStatus: status,
      operation,
    });
  }
  // The one transport classification (domain/transport-failures.ts). Octokit reports network
  // errors and its per-attempt timeout as status 500: transient, like 5xx and anything unexpected.
  const failure = classifyTransportFailure({ status, code: facts.code });
  if (failure === 'transient')
    return new AppError({
      code: 'GITHUB_API_FAILED',
      message: text(`${status ?? 'network'} ${facts.message}`),
      retryable: true,
      upstreamStatus: status,
      operation,
    });
  // GitHub answers 404, never 403, for a private repository the token cannot see: on calls that
  // name the repository that is an access problem, and the message says which one is likely.
  if (failure === 'auth' || failure === 'not_found') {
    return new AppError({
      code: 'GITHUB_AUTH_FAILED',
      message: text(`${status} ${facts.message}; ${accessHint(status, 'api')}`),
      retryable: false,
      upstreamStatus: status,
      operation,
    });
  }
  return new AppError({
    code: 'GITHUB_API_FAILED',
    message: text(`${status} ${facts.message}`),
    retryable: false,
    upstreamStatus: status,
    operation,
  });
}

function factsOf(error: unknown): FailureFacts {
  if (typeof error !== 'object' || error === null) return { message: String(error), headers: {} };
  const e = error as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  return { status, code, message: String(e.message ?? 'unknown error'), headers: e.response?.headers ?? {} };
}

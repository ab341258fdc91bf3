// One classification of a failed network call, for git transfers and GitHub's REST API alike
// (docs/architecture.md "Forge behaviour"): a network failure is transient until it is proven otherwise. Only the
// server's own answer can prove it — authentication (401/403), not found (404/410) or a refused
// request (other 4xx) — or a request the client itself cannot make (a bad URL or ref name). A
// failure of unknown kind is retried until its step's retry budget runs out. Rate limits are
// recognised before this (their 403/429 carry a wait) by the GitHub adapter.

export type TransportFailureKind = 'transient' | 'auth' | 'not_found' | 'invalid';

/** What the classification reads of a failure. */
export interface TransportFailureFacts {
  /** HTTP status, when the server answered. */
  status?: number;
  /** Node's or the library's error code (ECONNRESET, ETIMEDOUT, NotFoundError, …). */
  code?: string;
}

/** Failures of the client itself or of what it was asked: the same request fails again. */
const TERMINAL_CODES: Record<string, TransportFailureKind> = {
  // isomorphic-git: the branch or ref does not exist on the server.
  NotFoundError: 'not_found',
  // isomorphic-git: a request we built wrong, or a URL or transport we cannot use.
  InvalidRefNameError: 'invalid',
  UrlParseError: 'invalid',
  UnknownTransportError: 'invalid',
  InvalidFilepathError: 'invalid',
  MissingParameterError: 'invalid',
};

export function classifyTransportFailure({ status, code }: TransportFailureFacts): TransportFailureKind {
  if (status !== undefined && status >= 400) {
    if (status === 401 || status === 403) return 'auth';
    if (status === 404 || status === 410) return 'not_found';
    if (status === 408 || status === 429 || status >= 500) return 'transient';
    return 'invalid';
  }
  if (code !== undefined && code in TERMINAL_CODES) return TERMINAL_CODES[code] as TransportFailureKind;
  // Timeouts, resets, refused connections, DNS failures, a garbled or empty answer, anything else.
  return 'transient';
}

/** What the refused call was for, to name the permission it lacked. */
export type AccessScope = 'read' | 'push' | 'api';

/**
 * The likely cause of GitHub refusing access, for the operator reading pr_open_error: 401 is the
 * token itself, 403 a permission it lacks, 404 a repository it cannot see (GitHub answers 404,
 * never 403, for a private repository a token has no access to).
 */
export function accessHint(status: number | undefined, scope: AccessScope): string {
  if (status === 401) return 'the token is invalid, expired or revoked';
  if (status === 403) {
    if (scope === 'push') return 'the token may read the repository but not push to it (it needs contents: write)';
    if (scope === 'read') return 'the token lacks access to the repository contents (it needs contents: read)';
    return 'the token can see the repository but lacks a permission this call needs (pull_requests: write and issues: write for the PR and its comment)';
  }
  return 'the repository does not exist or the token cannot see it (GitHub answers 404 for a private repository a token has no access to)';
}

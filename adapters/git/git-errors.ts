// Classifies isomorphic-git failures into the project's error codes (docs/architecture.md "Error codes") with the one
// transport classification (domain/transport-failures.ts): network-level failures are retryable,
// only the server's authentication, not-found and validation answers are terminal. Every message
// is redacted (docs/architecture.md "Security rules"), and the raw error is not attached as
// `cause`: a URL or server reply must never carry a token out of the activity.
import { Errors } from 'isomorphic-git';
import { AppError } from '../../domain/errors.js';
import type { Redactor } from '../../domain/redact.js';
import {
  accessHint,
  classifyTransportFailure,
  type TransportFailureFacts,
  type TransportFailureKind,
} from '../../domain/transport-failures.js';
import { GitTransportError } from './git-http-client.js';

export type GitAction = 'clone' | 'fetch' | 'list remote branches' | 'push';

function factsOf(error: unknown): TransportFailureFacts {
  if (error instanceof Errors.HttpError) return { status: (error.data as { statusCode?: number }).statusCode };
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

export function gitFailureKind(error: unknown): TransportFailureKind {
  return classifyTransportFailure(factsOf(error));
}

/**
 * The server answered, the network failed or the transfer was cancelled: a fresh clone would meet
 * the same, so a healthy cache is kept (docs/architecture.md "The open-PR workflow" step 5).
 */
export function isServerOrNetworkFailure(error: unknown): boolean {
  if (
    error instanceof Errors.HttpError ||
    error instanceof Errors.SmartHttpError ||
    error instanceof Errors.EmptyServerResponseError
  )
    return true;
  if (error instanceof GitTransportError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { status } = factsOf(error);
  return status === undefined ? `${error.name}: ${error.message}` : `HTTP ${status} ${error.message}`;
}

/**
 * A failed git transfer: GITHUB_AUTH_FAILED when the server refused the token (401, 403) or hid
 * the repository (404); otherwise CLONE_FAILED, retryable when transient, terminal with a hint.
 */
export function toGitTransferError(action: GitAction, error: unknown, redactor: Redactor): AppError {
  if (error instanceof AppError) return error;
  const kind = gitFailureKind(error);
  const { status } = factsOf(error);
  // A 404 from the server is the repository; a NotFoundError of the library is a missing ref.
  if (kind === 'auth' || (kind === 'not_found' && status !== undefined)) {
    const hint = accessHint(status, action === 'push' ? 'push' : 'read');
    return new AppError({
      code: 'GITHUB_AUTH_FAILED',
      message: redactor.redactString(`git ${action} failed: ${hint} (${describe(error)})`),
    });
  }
  const message =
    kind === 'transient'
      ? `git ${action} failed: ${describe(error)}`
      : `git ${action} failed: ${kind === 'not_found' ? 'not found; check pr_base_branch' : 'refused'} (${describe(error)})`;
  return new AppError({
    code: 'CLONE_FAILED',
    retryable: kind === 'transient',
    message: redactor.redactString(message),
  });
}

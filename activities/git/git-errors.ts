// Classifies isomorphic-git failures into the project's error codes (SPEC §7). Every message is
// redacted (SPEC §6), and the raw error is not attached as `cause`: a URL or server reply must
// never carry a token out of the activity.
import { Errors } from 'isomorphic-git';
import { AppError } from '../../domain/errors.js';
import type { Redactor } from '../../domain/redact.js';

export type GitAction = 'clone' | 'fetch' | 'list remote branches' | 'push';

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof Errors.HttpError) return (error.data as { statusCode?: number }).statusCode;
  return undefined;
}

export function isAuthFailure(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === 401 || status === 403;
}

/** Network errors and 5xx: worth another attempt by Temporal's retry policy. */
export function isTransient(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) return status >= 500 || status === 429;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR_.*)$/.test(code);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = httpStatusOf(error);
  return status === undefined ? `${error.name}: ${error.message}` : `HTTP ${status} ${error.message}`;
}

/** CLONE_FAILED for a failed git transfer; auth failures say so and are terminal. */
export function toGitTransferError(action: GitAction, error: unknown, redactor: Redactor): AppError {
  if (error instanceof AppError) return error;
  if (isAuthFailure(error)) {
    return new AppError({ code: 'CLONE_FAILED', retryable: false, message: redactor.redactString(`git ${action} failed: authentication failed (${describe(error)}); check the config repo's token`) });
  }
  return new AppError({ code: 'CLONE_FAILED', retryable: isTransient(error), message: redactor.redactString(`git ${action} failed: ${describe(error)}`) });
}

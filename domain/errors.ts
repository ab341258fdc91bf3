// Every error code of docs/architecture.md "Error codes" as one `as const` union. HTTP routes map AppErrors to
// the error envelope; activities convert them to non-retryable ApplicationFailures whose `type` is
// the code, and the workflow retry policy's nonRetryableErrorTypes is built from WORKFLOW_ERROR_CODES.

/** Codes an endpoint can answer with, and their HTTP status. */
export const ENDPOINT_ERRORS = {
  UNAUTHORIZED: 401,
  /** A GitHub webhook without a valid X-Hub-Signature-256 for its repository's secret. */
  WEBHOOK_SIGNATURE_INVALID: 401,
  /** A GitHub webhook for a config repo that has no webhook secret. */
  WEBHOOK_NOT_CONFIGURED: 403,
  VALIDATION_ERROR: 422,
  PROPOSAL_NOT_FOUND: 404,
  CONFIG_REPO_NOT_FOUND: 404,
  CLUSTER_NOT_FOUND: 404,
  TEMPLATE_NOT_FOUND: 404,
  STUDY_NOT_FOUND: 404,
  INVALID_STATE_TRANSITION: 409,
  CONFIG_REPO_NAME_TAKEN: 409,
  CONFIG_REPO_IN_USE: 409,
  /** Another template of the cluster has the name: both would edit one params file. */
  TEMPLATE_NAME_TAKEN: 409,
  CLUSTER_HAS_NO_CONFIG_REPO: 422,
  UNSUPPORTED_PROVIDER: 400,
  AUTH_REF_NOT_FOUND: 400,
  PAYLOAD_TOO_LARGE: 413,
  GITHUB_NOT_CONFIGURED: 503,
  QUEUE_UNAVAILABLE: 503,
  /** The database did not complete the request in time (a webhook must answer within GitHub's 10 s). */
  DATABASE_BUSY: 503,
  NOT_FOUND: 404,
  INTERNAL_ERROR: 500,
} as const;

/** Terminal failures of the open-PR workflow (pr_open_error prefix and ApplicationFailure type). */
export const WORKFLOW_ERROR_CODES = [
  'PARAM_NOT_IN_TEMPLATE',
  'PARAMS_FILE_NOT_FOUND',
  'CONFIG_PATH_INVALID',
  'BRANCH_EXISTS',
  /** The server declined the push: branch protection or a ruleset. */
  'BRANCH_PROTECTED',
  /** The repo lock was taken from the run (force-release or lease expiry) before a side effect. */
  'LOCK_LOST',
  'CLONE_FAILED',
  'GITHUB_API_FAILED',
  'GITHUB_AUTH_FAILED',
] as const;

/** Preconditions the workflow's `load` step finds broken; terminal like the workflow codes. */
export const LOAD_ERROR_CODES = ['PROPOSAL_NOT_FOUND', 'CLUSTER_HAS_NO_CONFIG_REPO'] as const;

/** Every code a failed open-PR run can carry (INTERNAL_ERROR: a failure without a code). */
export const RUN_FAILURE_CODES = [...WORKFLOW_ERROR_CODES, ...LOAD_ERROR_CODES, 'INTERNAL_ERROR'] as const;

export type EndpointErrorCode = keyof typeof ENDPOINT_ERRORS;
export type WorkflowErrorCode = (typeof WORKFLOW_ERROR_CODES)[number];
export type ErrorCode = EndpointErrorCode | WorkflowErrorCode;

/** 503s the caller may retry as is (docs/architecture.md "Error codes"). */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  'GITHUB_NOT_CONFIGURED',
  'QUEUE_UNAVAILABLE',
  'DATABASE_BUSY',
]);

export interface AppErrorOptions {
  code: ErrorCode;
  message: string;
  /** Defaults from the code (docs/architecture.md "Error codes"). */
  retryable?: boolean;
  /** For VALIDATION_ERROR: the offending field, e.g. `body.config_diff`. */
  field?: string;
  /** For a retryable failure of a call to a remote service: how long it asked us to wait (a rate limit). */
  retryAfterMs?: number;
  /** The HTTP status a remote service answered with, when the failure is its answer. */
  upstreamStatus?: number;
  /** What was being done, e.g. `create pull request (acme/config)`. */
  operation?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly operation: string | undefined;

  constructor({ code, message, retryable, field, retryAfterMs, upstreamStatus, operation, cause }: AppErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = retryable ?? RETRYABLE_CODES.has(code);
    this.field = field;
    this.retryAfterMs = retryAfterMs;
    this.upstreamStatus = upstreamStatus;
    this.operation = operation;
  }
}

export function isWorkflowErrorCode(code: string): code is WorkflowErrorCode {
  return (WORKFLOW_ERROR_CODES as readonly string[]).includes(code);
}

export function httpStatusOf(code: ErrorCode): number {
  return code in ENDPOINT_ERRORS ? ENDPOINT_ERRORS[code as EndpointErrorCode] : 500;
}

/**
 * Failure type of a retryable attempt of `code` (e.g. a 502 during clone). It must differ from the
 * code itself, which the retry policy lists as non-retryable; once retries are exhausted the
 * workflow reports the code (`terminalCodeOf`).
 */
export function transientTypeOf(code: ErrorCode): string {
  return `${code}_TRANSIENT`;
}

/** The error code a failure type stands for: the code itself, or the code of its transient form. */
export function terminalCodeOf(type: string | null | undefined): ErrorCode | undefined {
  if (!type) return undefined;
  const code = type.endsWith('_TRANSIENT') ? type.slice(0, -'_TRANSIENT'.length) : type;
  return code in ENDPOINT_ERRORS || isWorkflowErrorCode(code) ? (code as ErrorCode) : undefined;
}

// One error envelope for every failure (docs/api.md): {"detail": {error_code, message, retryable}}.
// Domain errors map by code; body-parser failures map to 413/422; anything unexpected is a 500
// carrying the request id and no internals, logged (redacted) for the operator.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, httpStatusOf, type ErrorCode } from '../domain/errors.js';

export interface ErrorEnvelope {
  detail: { error_code: ErrorCode; message: string; retryable: boolean; field?: string; request_id?: string };
}

export function sendError(res: Response, error: AppError): void {
  const body: ErrorEnvelope = {
    detail: { error_code: error.code, message: error.message, retryable: error.retryable },
  };
  if (error.field !== undefined) body.detail.field = error.field;
  res.status(httpStatusOf(error.code)).json(body);
}

/** Converts the errors body-parser raises (they carry `type` and `status`). */
function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') {
    return new AppError({ code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1 MiB' });
  }
  if (type === 'entity.parse.failed') {
    return new AppError({ code: 'VALIDATION_ERROR', message: 'request body is not valid JSON', field: 'body' });
  }
  if (typeof type === 'string' && (error as { status?: number }).status === 415) {
    return new AppError({ code: 'VALIDATION_ERROR', message: 'unsupported request body encoding', field: 'body' });
  }
  return undefined;
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, new AppError({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` }));
};

export const errorMiddleware: ErrorRequestHandler = (error, req, res, _next) => {
  const known = error instanceof AppError ? error : fromBodyParser(error);
  if (known) {
    sendError(res, known);
    return;
  }
  const requestId = String(res.getHeader('x-request-id') ?? '');
  req.log.error({ err: error, requestId }, 'unhandled error');
  const body: ErrorEnvelope = {
    detail: { error_code: 'INTERNAL_ERROR', message: 'internal error', retryable: true, request_id: requestId },
  };
  res.status(500).json(body);
};

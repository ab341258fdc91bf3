// One definition per route serves three purposes: Express mounts it, the edge validates its
// params/query/body with its zod schemas, and the OpenAPI document is generated from the same
// schemas and declared error codes (docs/api.md: no hand-written duplicate). Handlers stay thin: they
// receive parsed input and return the response body.
import express, { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { EndpointErrorCode } from '../domain/errors.js';
import { assertStorableInput, assertValid } from './validation.js';

type Method = 'get' | 'post' | 'patch' | 'delete';
type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P extends Schema, Q extends Schema, B extends Schema> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  req: Request;
  res: Response;
}

/** A list handler returns its page and total; the route sends `X-Total-Count` (docs/api.md). */
export interface ListResult<T> {
  data: T[];
  next_cursor: string | null;
  has_more: boolean;
  total: number;
}

export interface RouteSpec<
  P extends Schema = Schema,
  Q extends Schema = Schema,
  B extends Schema = Schema,
  R extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Express path below /api/v1, e.g. `/config-repos/:id`. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Whether a body may be omitted (POST /proposals/{id}/reject). */
  bodyOptional?: boolean;
  /**
   * Who may call it: holders of the API's bearer token (the default), or anyone, the handler
   * authenticating the request itself (a webhook, by the signature over its raw body).
   */
  auth?: 'bearer' | 'handler';
  /**
   * The body reaches the handler as its raw bytes (`req.body` a Buffer), unparsed and unvalidated:
   * what a signature covers. `body` then documents it.
   */
  rawBody?: boolean;
  /** Request headers the handler reads; documented, and checked by the handler in its own order. */
  headers?: z.ZodObject;
  /** More than the summary says, for the OpenAPI document. */
  description?: string;
  success: { status: 200 | 201 | 202 | 204; description: string; schema?: R; list?: boolean };
  /** Further success answers; the handler picks one by returning `answer(status, body)`. */
  alsoSucceeds?: { status: 200 | 201 | 202; description: string; schema: z.ZodType }[];
  /** Error codes the route itself can answer (401, 422 and 413 are added for every route). */
  errors: EndpointErrorCode[];
  handler(
    input: RouteInput<P, Q, B>,
  ): Promise<R extends z.ZodType ? z.input<R> | ListResult<unknown> | Answer | undefined : undefined>;
}

/** A success answer other than the route's first (`alsoSucceeds`), or its first with a chosen status. */
export class Answer {
  constructor(
    readonly status: 200 | 201 | 202,
    readonly body: unknown,
  ) {}
}

export function answer(status: 200 | 201 | 202, body: unknown): Answer {
  return new Answer(status, body);
}

/** Identity with inference: keeps a route's schema types attached to its handler. */
export function defineRoute<P extends Schema, Q extends Schema, B extends Schema, R extends z.ZodType>(
  spec: RouteSpec<P, Q, B, R>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** Codes every authenticated JSON route can answer besides its own. */
export function errorsOf(route: RouteSpec): EndpointErrorCode[] {
  // A route that authenticates requests itself names its own 401 code.
  const common: EndpointErrorCode[] = route.auth === 'handler' ? [] : ['UNAUTHORIZED'];
  if (route.params !== undefined || route.query !== undefined || route.body !== undefined)
    common.push('VALIDATION_ERROR');
  if (route.body !== undefined) common.push('PAYLOAD_TOO_LARGE');
  return [...new Set([...common, ...route.errors, 'INTERNAL_ERROR' as const])];
}

/**
 * Mounts `routes`. A JSON body is parsed by the caller's `express.json` (after its bearer check); a
 * raw-body route parses its own, up to `maxBodyBytes`.
 */
export function mountRoutes(routes: readonly RouteSpec[], opts: { maxBodyBytes: number }): Router {
  const router = Router();
  for (const route of routes) {
    const raw = route.rawBody === true ? [express.raw({ type: () => true, limit: opts.maxBodyBytes })] : [];
    router[route.method](route.path, ...raw, async (req, res) => {
      assertStorableInput(req.params, 'params');
      assertStorableInput(req.query, 'query');
      if (route.rawBody !== true) assertStorableInput(req.body, 'body');
      const params = route.params ? assertValid(route.params, req.params, 'params') : undefined;
      const query = route.query ? assertValid(route.query, req.query, 'query') : undefined;
      const rawBody: unknown = req.body;
      const body =
        route.body && route.rawBody !== true && !(route.bodyOptional && rawBody === undefined)
          ? assertValid(route.body, rawBody, 'body')
          : undefined;
      const result = await route.handler({ params, query, body, req, res });
      if (result instanceof Answer) {
        const declared = [route.success.status, ...(route.alsoSucceeds ?? []).map((s) => s.status)];
        if (!declared.includes(result.status))
          throw new Error(`${route.method} ${route.path} answered ${result.status}, which it does not declare`);
        res.status(result.status).json(result.body);
        return;
      }
      if (route.success.status === 204) {
        res.status(204).end();
        return;
      }
      if (route.success.list) {
        const { total, ...page } = result as ListResult<unknown>;
        res.setHeader('X-Total-Count', String(total));
        res.status(200).json(page);
        return;
      }
      res.status(route.success.status).json(result);
    });
  }
  return router;
}

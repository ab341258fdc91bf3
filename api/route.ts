// One definition per route serves three purposes: Express mounts it, the edge validates its
// params/query/body with its zod schemas, and the OpenAPI document is generated from the same
// schemas and declared error codes (SPEC §4: no hand-written duplicate). Handlers stay thin: they
// receive parsed input and return the response body.
import { Router, type Request, type Response } from 'express';
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

/** A list handler returns its page and total; the route sends `X-Total-Count` (SPEC §4). */
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
  success: { status: 200 | 201 | 202 | 204; description: string; schema?: R; list?: boolean };
  /** Error codes the route itself can answer (401, 422 and 413 are added for every route). */
  errors: EndpointErrorCode[];
  handler(
    input: RouteInput<P, Q, B>,
  ): Promise<R extends z.ZodType ? z.input<R> | ListResult<unknown> | undefined : undefined>;
}

/** Identity with inference: keeps a route's schema types attached to its handler. */
export function defineRoute<P extends Schema, Q extends Schema, B extends Schema, R extends z.ZodType>(
  spec: RouteSpec<P, Q, B, R>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** Codes every authenticated JSON route can answer besides its own. */
export function errorsOf(route: RouteSpec): EndpointErrorCode[] {
  const common: EndpointErrorCode[] = ['UNAUTHORIZED'];
  if (route.params !== undefined || route.query !== undefined || route.body !== undefined)
    common.push('VALIDATION_ERROR');
  if (route.body !== undefined) common.push('PAYLOAD_TOO_LARGE');
  return [...new Set([...common, ...route.errors, 'INTERNAL_ERROR' as const])];
}

export function mountRoutes(routes: readonly RouteSpec[]): Router {
  const router = Router();
  for (const route of routes) {
    router[route.method](route.path, async (req, res) => {
      assertStorableInput(req.params, 'params');
      assertStorableInput(req.query, 'query');
      assertStorableInput(req.body, 'body');
      const params = route.params ? assertValid(route.params, req.params, 'params') : undefined;
      const query = route.query ? assertValid(route.query, req.query, 'query') : undefined;
      const rawBody: unknown = req.body;
      const body =
        route.body && !(route.bodyOptional && rawBody === undefined)
          ? assertValid(route.body, rawBody, 'body')
          : undefined;
      const result = await route.handler({ params, query, body, req, res });
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

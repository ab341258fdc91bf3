// The OpenAPI document (docs/api.md, /api/v1/openapi.json), generated from the route definitions:
// the same zod schemas that validate requests, the success schema, and one response per error
// status whose `error_code` enum lists exactly the codes the route can answer with it.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ENDPOINT_ERRORS, type EndpointErrorCode } from '../domain/errors.js';
import { defineRoute, errorsOf, type RouteSpec } from './route.js';
import { errorEnvelope } from './schemas/common.js';

export const API_PREFIX = '/api/v1';

/** `/config-repos/:id` → `/api/v1/config-repos/{id}`. */
export function toOpenApiPath(expressPath: string): string {
  return API_PREFIX + expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function errorResponses(codes: readonly EndpointErrorCode[]) {
  const byStatus = new Map<number, EndpointErrorCode[]>();
  for (const code of codes) byStatus.set(ENDPOINT_ERRORS[code], [...(byStatus.get(ENDPOINT_ERRORS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => {
      const schema = errorEnvelope.extend({
        detail: errorEnvelope.shape.detail.extend({
          error_code: z.enum(list as [EndpointErrorCode, ...EndpointErrorCode[]]),
        }),
      });
      return [String(status), { description: list.join(', '), content: { 'application/json': { schema } } }];
    }),
  );
}

function registerHealth(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['health'],
    summary: 'Liveness (no auth)',
    security: [],
    responses: {
      200: {
        description: 'The process is up',
        content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
      },
    },
  });
  const ready = z.object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ database: z.enum(['ok', 'unavailable']), temporal: z.enum(['ok', 'unavailable']) }),
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['health'],
    summary: 'Readiness: database and Temporal namespace',
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ready } } },
      503: { description: 'Not ready (names what is not)', content: { 'application/json': { schema: ready } } },
      ...errorResponses(['UNAUTHORIZED']),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['health'],
    summary: 'Prometheus metrics of this API process (docs/operations.md "Metrics")',
    responses: {
      200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
      ...errorResponses(['UNAUTHORIZED']),
    },
  });
}

export function createOpenApiDocument(
  routes: readonly RouteSpec[],
): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  registerHealth(registry);
  for (const route of routes) {
    const success =
      route.success.status === 204
        ? { description: route.success.description }
        : {
            description: route.success.description,
            ...(route.success.list
              ? {
                  headers: {
                    'X-Total-Count': {
                      description: 'Rows matching the filters (all pages)',
                      schema: { type: 'integer' as const },
                    },
                  },
                }
              : {}),
            content: { 'application/json': { schema: route.success.schema ?? z.unknown() } },
          };
    const alsoSucceeds = Object.fromEntries(
      (route.alsoSucceeds ?? []).map((s) => [
        String(s.status),
        { description: s.description, content: { 'application/json': { schema: s.schema } } },
      ]),
    );
    registry.registerPath({
      method: route.method,
      path: toOpenApiPath(route.path),
      tags: [route.tag],
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      // A route that authenticates requests itself (a signed webhook) is not behind the bearer token.
      ...(route.auth === 'handler' ? { security: [] } : {}),
      request: {
        ...(route.params ? { params: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.body
          ? { body: { required: !route.bodyOptional, content: { 'application/json': { schema: route.body } } } }
          : {}),
      },
      responses: {
        [String(route.success.status)]: success,
        ...alsoSucceeds,
        ...errorResponses(errorsOf(route)),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'relyloop-pr',
      version: '1',
      description: 'Turns operator-approved config-tuning proposals into GitHub pull requests.',
    },
    security: [{ [bearer.name]: [] }],
  });
}

/** GET /api/v1/openapi.json, documenting itself and every route in `routes()`. */
export function openApiRoute(routes: () => readonly RouteSpec[]): RouteSpec {
  let document: unknown;
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This OpenAPI document',
    success: { status: 200, description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
    errors: [],
    async handler() {
      document ??= createOpenApiDocument(routes());
      return document as Record<string, unknown>;
    },
  });
}

// The OpenAPI document (SPEC §4, /api/v1/openapi.json), generated from the route definitions:
// the same zod schemas that validate requests, the success schema, and one response per error
// status whose `error_code` enum lists exactly the codes the route can answer with it.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ENDPOINT_ERRORS, type EndpointErrorCode } from '../domain/errors.js';
import { defineRoute, errorsOf, type RouteSpec } from './route.js';
import { errorEnvelope } from './schemas/common.js';
import { WEBHOOK_PATH } from './webhooks.js';

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

/** The webhook route (api/webhooks.ts): signed by GitHub, not behind the bearer token. */
function registerWebhook(registry: OpenAPIRegistry): void {
  const handled = z.object({
    delivery: z.string(),
    outcome: z.enum(['pong', 'applied', 'stale', 'merged_after_reject', 'duplicate']),
    proposal_id: z.string().optional(),
    first_outcome: z
      .string()
      .optional()
      .describe('For a duplicate: what the first delivery of this id, or of this body, did.'),
    first_delivery: z
      .string()
      .optional()
      .describe(
        'For a replay (the same signed body under another delivery id): the delivery id that first brought it.',
      ),
  });
  const ignored = z.object({
    delivery: z.string(),
    outcome: z.enum(['ignored', 'foreign', 'unmatched', 'deferred']),
    reason: z.string().optional(),
    proposal_id: z.string().optional(),
    workflow_id: z
      .string()
      .optional()
      .describe(
        'For deferred (a state change in the same second as the recorded one): the run reading the PR back from GitHub.',
      ),
  });
  registry.registerPath({
    method: 'post',
    path: `${API_PREFIX}${WEBHOOK_PATH}`,
    tags: ['webhooks'],
    security: [],
    summary:
      'pull_request webhooks of GitHub, and of Gitea and Forgejo (they send the same headers and signature): merged, closed, reopened (docs/operations.md "Webhooks")',
    description:
      "Authenticated by X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the config repo's webhook secret), not by the bearer token. " +
      'The repository is taken from the payload (repository.html_url) and must match a config repo. A delivery id already recorded, or a body already ' +
      'received under another delivery id (within the 30 days the delivery log keeps), changes nothing. Payloads nest at most 64 levels; a value ' +
      'that is recorded or looked up (action, pull_request.head.ref) holding a NUL character or an unpaired surrogate is a 422.',
    request: {
      headers: z.object({
        'x-hub-signature-256': z.string().describe('sha256=<hex HMAC of the raw body>'),
        'x-github-event': z
          .string()
          .describe('pull_request and ping are handled; other events are accepted and ignored'),
        'x-github-delivery': z.string().describe("GitHub's delivery GUID; a redelivery is a no-op"),
      }),
      body: {
        required: true,
        content: {
          'application/json': { schema: z.record(z.string(), z.unknown()).describe("GitHub's webhook payload") },
        },
      },
    },
    responses: {
      200: {
        description: 'ping answered, or a pull_request event applied (or already known: stale, duplicate)',
        content: { 'application/json': { schema: handled } },
      },
      202: {
        description:
          'Accepted and ignored: an event or action that does not change pr_state, a PR from a fork, or a PR no proposal records; or deferred: the PR is read back from GitHub',
        content: { 'application/json': { schema: ignored } },
      },
      ...errorResponses([
        'WEBHOOK_SIGNATURE_INVALID',
        'WEBHOOK_NOT_CONFIGURED',
        'CONFIG_REPO_NOT_FOUND',
        'VALIDATION_ERROR',
        'PAYLOAD_TOO_LARGE',
        'QUEUE_UNAVAILABLE',
        'DATABASE_BUSY',
        'INTERNAL_ERROR',
      ]),
    },
  });
}

export function createOpenApiDocument(
  routes: readonly RouteSpec[],
): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  registerHealth(registry);
  registerWebhook(registry);
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
    registry.registerPath({
      method: route.method,
      path: toOpenApiPath(route.path),
      tags: [route.tag],
      summary: route.summary,
      request: {
        ...(route.params ? { params: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.body
          ? { body: { required: !route.bodyOptional, content: { 'application/json': { schema: route.body } } } }
          : {}),
      },
      responses: { [String(route.success.status)]: success, ...errorResponses(errorsOf(route)) },
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

// The served surface against its contract: every mounted route refuses missing, malformed and
// wrong bearer tokens with 401, and every mounted route is in /api/v1/openapi.json with its
// success response and the exact error codes docs/api.md, docs/architecture.md "Error codes" give
// it; real responses validate against the documented schemas.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { seedChain, startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { listMountedRoutes, type MountedRoute } from '../support/router-stack.js';

const SOME_ID = '0b6a3c9e-5d1f-4e2a-8b7c-9d0e1f2a3b4c';
const toDocPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const concrete = (p: string) => p.replace(/:[A-Za-z0-9_]+/g, SOME_ID);

const OPEN_PR_CODES = [
  'UNAUTHORIZED',
  'VALIDATION_ERROR',
  'PROPOSAL_NOT_FOUND',
  'INVALID_STATE_TRANSITION',
  'CLUSTER_HAS_NO_CONFIG_REPO',
  'GITHUB_NOT_CONFIGURED',
  'QUEUE_UNAVAILABLE',
  'INTERNAL_ERROR',
];

/** The error codes each route of this issue answers with (docs/api.md, docs/architecture.md "Error codes"). */
const EXPECTED_CODES: Record<string, string[]> = {
  'post /api/v1/config-repos': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_PROVIDER',
    'AUTH_REF_NOT_FOUND',
    'CONFIG_REPO_NAME_TAKEN',
    'INTERNAL_ERROR',
  ],
  'get /api/v1/config-repos': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'INTERNAL_ERROR'],
  'get /api/v1/config-repos/{id}': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'CONFIG_REPO_NOT_FOUND', 'INTERNAL_ERROR'],
  'patch /api/v1/config-repos/{id}': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CONFIG_REPO_NOT_FOUND',
    'AUTH_REF_NOT_FOUND',
    'INTERNAL_ERROR',
  ],
  'delete /api/v1/config-repos/{id}': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'CONFIG_REPO_NOT_FOUND',
    'CONFIG_REPO_IN_USE',
    'INTERNAL_ERROR',
  ],
  'post /api/v1/clusters': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CONFIG_REPO_NOT_FOUND',
    'INTERNAL_ERROR',
  ],
  'get /api/v1/clusters': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'INTERNAL_ERROR'],
  'get /api/v1/clusters/{id}': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'CLUSTER_NOT_FOUND', 'INTERNAL_ERROR'],
  'patch /api/v1/clusters/{id}': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CLUSTER_NOT_FOUND',
    'CONFIG_REPO_NOT_FOUND',
    'INTERNAL_ERROR',
  ],
  'post /api/v1/templates': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CLUSTER_NOT_FOUND',
    'TEMPLATE_NAME_TAKEN',
    'INTERNAL_ERROR',
  ],
  'get /api/v1/templates': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'INTERNAL_ERROR'],
  'get /api/v1/templates/{id}': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'TEMPLATE_NOT_FOUND', 'INTERNAL_ERROR'],
  'patch /api/v1/templates/{id}': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'TEMPLATE_NOT_FOUND',
    'TEMPLATE_NAME_TAKEN',
    'INTERNAL_ERROR',
  ],
  'post /api/v1/studies': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CLUSTER_NOT_FOUND',
    'TEMPLATE_NOT_FOUND',
    'INTERNAL_ERROR',
  ],
  'get /api/v1/studies': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'INTERNAL_ERROR'],
  'get /api/v1/studies/{id}': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'STUDY_NOT_FOUND', 'INTERNAL_ERROR'],
  'post /api/v1/proposals': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'CLUSTER_NOT_FOUND',
    'TEMPLATE_NOT_FOUND',
    'STUDY_NOT_FOUND',
    'INTERNAL_ERROR',
  ],
  'get /api/v1/proposals': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'INTERNAL_ERROR'],
  'get /api/v1/proposals/{id}': ['UNAUTHORIZED', 'VALIDATION_ERROR', 'PROPOSAL_NOT_FOUND', 'INTERNAL_ERROR'],
  'post /api/v1/proposals/{id}/reject': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'PROPOSAL_NOT_FOUND',
    'INVALID_STATE_TRANSITION',
    'INTERNAL_ERROR',
  ],
  'post /api/v1/proposals/{id}/open_pr': OPEN_PR_CODES,
  // The same pre-flight as open_pr.
  'get /api/v1/proposals/{id}/preview': OPEN_PR_CODES,
  'get /api/v1/proposals/{id}/open_pr': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'PROPOSAL_NOT_FOUND',
    'QUEUE_UNAVAILABLE',
    'INTERNAL_ERROR',
  ],
  'post /api/v1/config-repos/{id}/reconcile': [
    'UNAUTHORIZED',
    'VALIDATION_ERROR',
    'CONFIG_REPO_NOT_FOUND',
    'QUEUE_UNAVAILABLE',
    'INTERNAL_ERROR',
  ],
  // Signed by GitHub instead of the bearer token.
  'post /api/v1/webhooks/github': [
    'WEBHOOK_SIGNATURE_INVALID',
    'WEBHOOK_NOT_CONFIGURED',
    'CONFIG_REPO_NOT_FOUND',
    'VALIDATION_ERROR',
    'PAYLOAD_TOO_LARGE',
    'QUEUE_UNAVAILABLE',
    'DATABASE_BUSY',
    'INTERNAL_ERROR',
  ],
};

/** Routes authenticated by something else than the bearer token, and the 401 code they answer. */
const SIGNED_ROUTES: Record<string, string> = { '/api/v1/webhooks/github': 'WEBHOOK_SIGNATURE_INVALID' };

interface Doc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>
  >;
}

function documentedCodes(doc: Doc, method: string, path: string): string[] {
  const responses = doc.paths[path]?.[method]?.responses ?? {};
  return Object.entries(responses)
    .filter(([status]) => Number(status) >= 400)
    .flatMap(([, r]) => {
      const schema = r.content?.['application/json']?.schema as
        { properties?: { detail?: { properties?: { error_code?: { enum?: string[] } } } } } | undefined;
      return schema?.properties?.detail?.properties?.error_code?.enum ?? [];
    });
}

describe('API contract', () => {
  let h: ApiHarness;
  let mounted: MountedRoute[];
  let doc: Doc;

  beforeAll(async () => {
    h = await startApiHarness({ kind: 'postgres' });
    mounted = listMountedRoutes(h.app);
    const res = await h.request('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await h.close();
  });

  test('the walker sees every route of this issue mounted', () => {
    const keys = mounted.map((r) => `${r.method} ${toDocPath(r.path)}`);
    for (const key of Object.keys(EXPECTED_CODES)) expect(keys).toContain(key);
  });

  const badAuth: [string, string | null][] = [
    ['missing', null],
    ['malformed (no Bearer)', 'Token abc'],
    ['malformed (empty bearer)', 'Bearer '],
    ['malformed (basic auth)', 'Basic dXNlcjpwYXNz'],
    ['wrong token', 'Bearer not-the-token'],
    ['wrong short token', 'Bearer x'],
  ];

  test.each(badAuth)(
    '%s token → 401 UNAUTHORIZED on every protected route, nothing changes',
    async (_name, authorization) => {
      const protectedRoutes = mounted.filter((r) => r.path !== '/healthz');
      expect(protectedRoutes.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED_CODES).length + 2);
      const before = await h.snapshot();
      for (const route of protectedRoutes) {
        const res = await h.request(route.method.toUpperCase(), concrete(route.path), {
          authorization,
          ...(route.method === 'get' || route.method === 'delete' ? {} : { body: {} }),
        });
        expect({ route: `${route.method} ${route.path}`, status: res.status, body: res.body }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 401,
          // A bearer token, right or wrong, never stands in for a webhook's signature.
          body: {
            detail: {
              error_code: SIGNED_ROUTES[route.path] ?? 'UNAUTHORIZED',
              message: expect.any(String),
              retryable: false,
            },
          },
        });
      }
      expect(await h.snapshot()).toBe(before);
    },
  );

  test('/healthz needs no token', async () => {
    const res = await h.request('GET', '/healthz', { authorization: null });
    expect(res.status).toBe(200);
  });

  test('every mounted route is documented with a success response and 401', () => {
    for (const route of mounted) {
      const op = doc.paths[toDocPath(route.path)]?.[route.method];
      expect({ route: `${route.method} ${route.path}`, documented: op !== undefined }).toEqual({
        route: `${route.method} ${route.path}`,
        documented: true,
      });
      const statuses = Object.keys(op?.responses ?? {});
      expect(statuses.some((s) => s.startsWith('2'))).toBe(true);
      if (route.path !== '/healthz') expect(statuses).toContain('401');
    }
  });

  test.each(Object.entries(EXPECTED_CODES))('%s documents exactly its error codes', (key, codes) => {
    const [method, path] = key.split(' ') as [string, string];
    expect(documentedCodes(doc, method, path).sort()).toEqual([...codes].sort());
  });

  test('real responses validate against the documented schemas', async () => {
    const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
    const ajv = addFormats(new Ajv2020({ strict: false }));
    // A missing schema must fail, not validate as `{}` (which accepts anything).
    const schemaOf = (method: string, path: string, status: string) => {
      const schema = doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
      if (schema === undefined) throw new Error(`no documented schema for ${method} ${path} ${status}`);
      return schema;
    };
    const seeded = await seedChain(h, 'contract');
    const proposal = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: seeded.clusterId,
        template_id: seeded.templateId,
        study_id: seeded.studyId,
        config_diff: { 'bm25.k1': { from: 1.2, to: 2 } },
      },
    });
    const checks: [string, string, string, unknown][] = [
      ['post', '/api/v1/proposals', '201', proposal.body],
      ['get', '/api/v1/proposals', '200', (await h.request('GET', '/api/v1/proposals')).body],
      [
        'get',
        '/api/v1/config-repos/{id}',
        '200',
        (await h.request('GET', `/api/v1/config-repos/${seeded.repoId}`)).body,
      ],
      ['get', '/api/v1/studies', '200', (await h.request('GET', '/api/v1/studies?limit=1')).body],
      ['get', '/api/v1/clusters/{id}', '404', (await h.request('GET', `/api/v1/clusters/${SOME_ID}`)).body],
      ['get', '/api/v1/templates', '422', (await h.request('GET', '/api/v1/templates?limit=0')).body],
      [
        'post',
        '/api/v1/proposals/{id}/open_pr',
        '404',
        (await h.request('POST', `/api/v1/proposals/${SOME_ID}/open_pr`)).body,
      ],
    ];
    expect(() => schemaOf('get', '/api/v1/proposals/{id}/open_pr', '418')).toThrow(/no documented schema/);
    for (const [method, path, status, body] of checks) {
      const validate = ajv.compile(schemaOf(method, path, status));
      expect({ at: `${method} ${path} ${status}`, valid: validate(body), errors: validate.errors ?? null }).toEqual({
        at: `${method} ${path} ${status}`,
        valid: true,
        errors: null,
      });
    }
  });
});

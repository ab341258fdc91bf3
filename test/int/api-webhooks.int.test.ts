// POST /api/v1/webhooks/github at the route: GitHub-shaped payloads (the sandbox's
// builders, valid against GitHub's webhook schemas) signed like GitHub signs them. Every bad
// request gets its status and code and changes nothing — no proposal, no delivery record; good
// deliveries move pr_state forward only, once per delivery id; no secret reaches a log or answer.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { markProposalPrOpened } from '../../db/proposals.js';
import { pullRequestEvent } from '../../sandbox/webhook-payloads.js';
import { repoJson, userJson } from '../../sandbox/rest-json.js';
import type { JsonContext } from '../../sandbox/rest-json.js';
import type { RepoRecord } from '../../sandbox/repos.js';
import type { SandboxPull } from '../../sandbox/types.js';
import { seedChain, startApiHarness, type ApiHarness } from '../support/api-harness.js';

const SECRET = 'whsec-current-0123456789abcdef';
const OLD_SECRET = 'whsec-previous-fedcba9876543210';
const OTHER_SECRET = 'whsec-other-repo-55555555555555';
const BRANCH = 'relyloop/study-webhooks-1';
const logLines: string[] = [];
let h: ApiHarness;
let repoName = '';
let seeded: Awaited<ReturnType<typeof seedChain>>;
let noSecretRepoName = '';

function ctxOf(name: string): JsonContext {
  const repo = { owner: 'acme', repo: name, defaultBranch: 'main' } as RepoRecord;
  return { origin: 'https://github.com', api: 'https://api.github.com', repo };
}

function pull(number: number, over: Partial<SandboxPull> = {}): SandboxPull {
  const at = '2026-11-20T10:00:00Z';
  return {
    number,
    state: 'open',
    title: 'Tune',
    body: null,
    draft: false,
    maintainer_can_modify: false,
    head: { ref: BRANCH, sha: 'a'.repeat(40), label: `acme:${BRANCH}` },
    base: { ref: 'main', sha: 'b'.repeat(40), label: 'acme:main' },
    created_at: at,
    updated_at: at,
    closed_at: null,
    ...over,
  };
}

function prEvent(action: string, p: SandboxPull, name = repoName): Record<string, unknown> {
  const ctx = ctxOf(name);
  return pullRequestEvent(ctx, p, action, userJson(ctx, 'octocat', 3));
}
const merged = (n: number, at: string) =>
  pull(n, {
    state: 'closed',
    merged: true,
    merged_at: at,
    closed_at: at,
    updated_at: at,
    merge_commit_sha: 'c'.repeat(40),
  });
const closed = (n: number, at: string) => pull(n, { state: 'closed', closed_at: at, updated_at: at });
const reopened = (n: number, at: string, over: Partial<SandboxPull> = {}) => pull(n, { updated_at: at, ...over });

/** An organisation webhook's ping: no repository, the organisation by its API URL. */
function orgPing(): Record<string, unknown> {
  return {
    zen: 'Keep it logically awesome.',
    hook_id: 9,
    hook: {
      type: 'Organization',
      id: 9,
      name: 'web',
      active: true,
      events: ['pull_request'],
      config: { content_type: 'json', insecure_ssl: '0', url: 'https://relyloop.example/api/v1/webhooks/github' },
      updated_at: '2026-11-20T10:00:00Z',
      created_at: '2026-11-20T10:00:00Z',
      url: 'https://api.github.com/orgs/acme/hooks/9',
      ping_url: 'https://api.github.com/orgs/acme/hooks/9/pings',
      deliveries_url: 'https://api.github.com/orgs/acme/hooks/9/deliveries',
    },
    organization: {
      login: 'acme',
      id: 2,
      node_id: 'O_2',
      url: 'https://api.github.com/orgs/acme',
      repos_url: 'https://api.github.com/orgs/acme/repos',
      events_url: 'https://api.github.com/orgs/acme/events',
      hooks_url: 'https://api.github.com/orgs/acme/hooks',
      issues_url: 'https://api.github.com/orgs/acme/issues',
      members_url: 'https://api.github.com/orgs/acme/members{/member}',
      public_members_url: 'https://api.github.com/orgs/acme/public_members{/member}',
      avatar_url: 'https://avatars.githubusercontent.com/u/2?v=4',
      description: null,
    },
    sender: userJson(ctxOf(repoName), 'octocat', 3),
  };
}

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface Delivery {
  event?: string;
  body?: string;
  payload?: unknown;
  secret?: string;
  id?: string;
  headers?: Record<string, string | undefined>;
}

async function deliver(
  d: Delivery,
  to: ApiHarness = h,
): Promise<{
  status: number;
  body: { detail?: { error_code: string }; outcome?: string; proposal_id?: string };
  text: string;
}> {
  const body = d.body ?? JSON.stringify(d.payload);
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': d.event ?? 'pull_request',
    'x-github-delivery': d.id ?? randomUUID(),
    'x-hub-signature-256': sign(d.secret ?? SECRET, body),
    ...d.headers,
  };
  const res = await fetch(`${to.url}/api/v1/webhooks/github`, {
    method: 'POST',
    body,
    headers: Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : JSON.parse(text), text };
}

async function newProposalWithPr(prNumber: number, branch = BRANCH): Promise<string> {
  const created = await h.request('POST', '/api/v1/proposals', {
    body: {
      cluster_id: seeded.clusterId,
      template_id: seeded.templateId,
      config_diff: { 'bm25.k1': { from: 1.2, to: 1.5 } },
    },
  });
  await markProposalPrOpened(h.db, {
    id: created.body.id,
    prUrl: `https://github.com/acme/${repoName}/pull/${prNumber}`,
    prNumber,
    branch,
  });
  return created.body.id;
}

async function proposal(id: string): Promise<{ status: string; pr_state: string | null; pr_state_at: string | null }> {
  return (await h.request('GET', `/api/v1/proposals/${id}`)).body;
}

async function state(of: ApiHarness = h): Promise<string> {
  const [deliveries] = await of.db.sql.query<{ rows: string }>(
    `SELECT coalesce(json_agg(d ORDER BY d.delivery_id), '[]'::json)::text AS rows FROM webhook_deliveries d`,
  );
  return `${await of.snapshot()}\nwebhook_deliveries: ${deliveries?.rows ?? ''}`;
}

beforeAll(async () => {
  h = await startApiHarness({
    kind: 'pglite',
    logDestination: {
      write: (line: string) => {
        logLines.push(line);
        return true;
      },
    } as never,
  });
  await writeFile(path.join(h.secretsDir, 'wh_secret'), `${SECRET}\n${OLD_SECRET}\n`);
  await writeFile(path.join(h.secretsDir, 'wh_secret_other'), OTHER_SECRET);
  seeded = await seedChain(h, 'wh');
  repoName = 'search-config-wh';
  expect(
    (await h.request('PATCH', `/api/v1/config-repos/${seeded.repoId}`, { body: { webhook_secret_ref: 'wh_secret' } }))
      .status,
  ).toBe(200);
  const other = await seedChain(h, 'other');
  expect(
    (
      await h.request('PATCH', `/api/v1/config-repos/${other.repoId}`, {
        body: { webhook_secret_ref: 'wh_secret_other' },
      })
    ).status,
  ).toBe(200);
  await seedChain(h, 'nosecret');
  noSecretRepoName = 'search-config-nosecret';
}, 60_000);
afterAll(async () => h.close());

describe('bad requests: a status, a code, and nothing recorded', () => {
  const valid = () => prEvent('closed', merged(41, '2026-11-21T10:00:00Z'));
  type Case = [name: string, make: () => Delivery, status: number, code: string];
  const cases: Case[] = [
    [
      'no signature',
      () => ({ payload: valid(), headers: { 'x-hub-signature-256': undefined } }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'only the SHA-1 signature',
      () => {
        const body = JSON.stringify(valid());
        return {
          body,
          headers: {
            'x-hub-signature-256': undefined,
            'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`,
          },
        };
      },
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'a truncated signature',
      () => {
        const body = JSON.stringify(valid());
        return { body, headers: { 'x-hub-signature-256': sign(SECRET, body).slice(0, -1) } };
      },
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'a signature without the sha256= prefix',
      () => {
        const body = JSON.stringify(valid());
        return { body, headers: { 'x-hub-signature-256': sign(SECRET, body).slice('sha256='.length) } };
      },
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'the bearer token instead of a signature',
      () => ({
        payload: valid(),
        headers: { 'x-hub-signature-256': undefined, authorization: `Bearer ${h.apiToken}` },
      }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'a signature made with a wrong secret',
      () => ({ payload: valid(), secret: 'not-the-secret' }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      "a signature made with another repo's secret",
      () => ({ payload: valid(), secret: OTHER_SECRET }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'a signed body replayed with a changed body',
      () => {
        const original = JSON.stringify(prEvent('closed', closed(41, '2026-11-21T10:00:00Z')));
        return {
          body: original.replace('"merged":false', '"merged":true'),
          headers: { 'x-hub-signature-256': sign(SECRET, original) },
        };
      },
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'a repository of an owner no config repo is under',
      () => {
        const payload = prEvent('closed', merged(41, '2026-11-21T10:00:00Z'), 'not-registered');
        (payload.repository as { html_url: string }).html_url = 'https://github.com/nobody/not-registered';
        return { payload };
      },
      404,
      'CONFIG_REPO_NOT_FOUND',
    ],
    [
      'a repository no config repo names, signed with a secret no config repo under its owner has',
      () => ({
        payload: prEvent('closed', merged(41, '2026-11-21T10:00:00Z'), 'not-registered'),
        secret: 'not-the-owners-secret',
      }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'an organisation event signed with a secret of no config repo under it',
      () => ({ event: 'ping', payload: orgPing(), secret: 'not-the-owners-secret' }),
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    ],
    [
      'an organisation no config repo is under',
      () => ({
        event: 'ping',
        payload: { ...orgPing(), organization: { login: 'nobody', url: 'https://api.github.com/orgs/nobody' } },
      }),
      404,
      'CONFIG_REPO_NOT_FOUND',
    ],
    [
      'an event name with a capital letter',
      () => ({ payload: valid(), headers: { 'x-github-event': 'Pull_Request' } }),
      422,
      'VALIDATION_ERROR',
    ],
    [
      'a config repo without a webhook secret',
      () => ({ payload: prEvent('closed', merged(41, '2026-11-21T10:00:00Z'), noSecretRepoName) }),
      403,
      'WEBHOOK_NOT_CONFIGURED',
    ],
    [
      'a body over 1 MiB',
      () => ({ payload: { ...valid(), padding: 'x'.repeat(1024 * 1024) } }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a body that is not JSON (form-encoded)',
      () => ({
        body: `payload=${encodeURIComponent(JSON.stringify(valid()))}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      422,
      'VALIDATION_ERROR',
    ],
    ['a JSON array', () => ({ body: JSON.stringify([valid()]) }), 422, 'VALIDATION_ERROR'],
    [
      'a payload without a repository',
      () => {
        const { repository: _dropped, ...rest } = valid();
        return { payload: rest };
      },
      422,
      'VALIDATION_ERROR',
    ],
    [
      'a repository on a host that is not allowed',
      () => {
        const payload = valid();
        (payload.repository as { html_url: string }).html_url = `https://evil.example.com/acme/${repoName}`;
        return { payload };
      },
      422,
      'VALIDATION_ERROR',
    ],
    [
      'no X-GitHub-Delivery',
      () => ({ payload: valid(), headers: { 'x-github-delivery': undefined } }),
      422,
      'VALIDATION_ERROR',
    ],
    ['a malformed X-GitHub-Delivery', () => ({ payload: valid(), id: '../../etc/passwd' }), 422, 'VALIDATION_ERROR'],
    [
      'no X-GitHub-Event',
      () => ({ payload: valid(), headers: { 'x-github-event': undefined } }),
      422,
      'VALIDATION_ERROR',
    ],
    [
      'a pull_request payload without updated_at',
      () => {
        const payload = valid();
        delete (payload.pull_request as Record<string, unknown>).updated_at;
        return { payload };
      },
      422,
      'VALIDATION_ERROR',
    ],
  ];

  let owner = '';
  beforeAll(async () => {
    owner = await newProposalWithPr(41);
  });

  test.each(cases.map(([name, make, status, code]) => [name, status, code, make] as const))(
    '%s → %i %s',
    async (_name, status, code, make) => {
      const before = await state();
      const answer = await deliver(make());
      expect(answer.status).toBe(status);
      expect(answer.body.detail?.error_code).toBe(code);
      expect(await state()).toBe(before);
      expect(await proposal(owner)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });
    },
  );

  test('the same delivery, correctly signed, is then applied (the cases above were refused for their fault alone)', async () => {
    const answer = await deliver({ payload: valid() });
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied', proposal_id: owner } });
    expect(await proposal(owner)).toMatchObject({
      status: 'pr_merged',
      pr_state: 'merged',
      pr_state_at: '2026-11-21T10:00:00.000Z',
    });
  });
});

describe('deliveries that change nothing wrong', () => {
  test("a PR the proposal does not own: another number on its branch, its number on another branch, a fork's PR", async () => {
    const id = await newProposalWithPr(51);
    const before = await proposal(id);
    const lookalike = await deliver({ payload: prEvent('closed', merged(52, '2026-11-21T11:00:00Z')) });
    expect(lookalike).toMatchObject({ status: 202, body: { outcome: 'unmatched' } });
    const elsewhere = prEvent('closed', merged(51, '2026-11-21T11:00:00Z'));
    (elsewhere.pull_request as { head: { ref: string } }).head.ref = 'relyloop/someone-else';
    const otherBranch = await deliver({ payload: elsewhere });
    expect(otherBranch).toMatchObject({ status: 202, body: { outcome: 'unmatched' } });
    const fork = prEvent('closed', merged(51, '2026-11-21T11:00:00Z'));
    (fork.pull_request as { head: { repo: { full_name: string } } }).head.repo = {
      ...(fork.repository as object),
      full_name: 'mallory/fork',
    } as never;
    expect(await deliver({ payload: fork })).toMatchObject({ status: 202, body: { outcome: 'foreign' } });
    expect(await proposal(id)).toEqual(before);
  });

  test('a redelivery is a no-op; an older event after a newer one does not move the state back; a merge is final', async () => {
    const id = await newProposalWithPr(61);
    const closing = { payload: prEvent('closed', closed(61, '2026-11-22T10:00:00Z')), id: randomUUID() };
    expect(await deliver(closing)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await proposal(id)).toMatchObject({ status: 'pr_opened', pr_state: 'closed' });
    expect(await deliver(closing)).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });

    // Reopened at 10:05; the close of 10:02 arrives late and is stale.
    expect(await deliver({ payload: prEvent('reopened', reopened(61, '2026-11-22T10:05:00Z')) })).toMatchObject({
      body: { outcome: 'applied' },
    });
    expect(await deliver({ payload: prEvent('closed', closed(61, '2026-11-22T10:02:00Z')) })).toMatchObject({
      status: 200,
      body: { outcome: 'stale' },
    });
    expect(await proposal(id)).toMatchObject({ pr_state: 'open', pr_state_at: '2026-11-22T10:05:00.000Z' });
    // Two events in one second cannot be ordered: GitHub is asked by a short workflow.
    // Without Temporal that is a quick 503 that records nothing: GitHub lists the delivery as
    // failed, and a redelivery or the reconciliation catches it up.
    const before = await state();
    const sameSecond = await deliver({ payload: prEvent('closed', closed(61, '2026-11-22T10:05:00Z')) });
    expect(sameSecond).toMatchObject({
      status: 503,
      body: { detail: { error_code: 'QUEUE_UNAVAILABLE', retryable: true } },
    });
    expect(await state()).toBe(before);
    // The same state in the same second is a fact already known (another delivery: the title changed).
    expect(
      await deliver({ payload: prEvent('reopened', reopened(61, '2026-11-22T10:05:00Z', { title: 'Retitled' })) }),
    ).toMatchObject({ body: { outcome: 'stale' } });

    expect(await deliver({ payload: prEvent('closed', merged(61, '2026-11-22T10:04:00Z')) })).toMatchObject({
      body: { outcome: 'applied' },
    });
    expect(await deliver({ payload: prEvent('reopened', reopened(61, '2026-11-22T11:00:00Z')) })).toMatchObject({
      body: { outcome: 'stale' },
    });
    expect(await proposal(id)).toMatchObject({ status: 'pr_merged', pr_state: 'merged' });
  });

  test('a rejected proposal whose PR is merged anyway says so: status rejected, pr_state merged', async () => {
    const id = await newProposalWithPr(71);
    await h.db.sql.query(
      `UPDATE proposals SET status = 'rejected', rejected_reason = 'changed our mind' WHERE id = $1`,
      [id],
    );
    expect(await deliver({ payload: prEvent('closed', merged(71, '2026-11-23T10:00:00Z')) })).toMatchObject({
      status: 200,
      body: { outcome: 'merged_after_reject' },
    });
    expect(await proposal(id)).toMatchObject({ status: 'rejected', pr_state: 'merged' });
    const listed = await h.request('GET', '/api/v1/proposals?status=rejected&pr_state=merged');
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual([id]);
    expect(logLines.some((l) => l.includes('merged_after_reject'))).toBe(true);
  });

  test('ping answers 200; an event we do not handle and an action that changes nothing answer 202', async () => {
    const ctx = ctxOf(repoName);
    const ping = {
      zen: 'Design for failure.',
      hook_id: 1,
      hook: { id: 1 },
      repository: repoJson(ctx),
      sender: userJson(ctx, 'octocat', 3),
    };
    expect(await deliver({ event: 'ping', payload: ping })).toMatchObject({ status: 200, body: { outcome: 'pong' } });
    expect(
      await deliver({ event: 'push', payload: { ref: 'refs/heads/main', repository: repoJson(ctx) } }),
    ).toMatchObject({ status: 202, body: { outcome: 'ignored' } });
    expect(await deliver({ payload: prEvent('labeled', pull(41)) })).toMatchObject({
      status: 202,
      body: { outcome: 'ignored' },
    });
  });

  test('during a secret rotation both lines of the secret file verify', async () => {
    const id = await newProposalWithPr(81);
    expect(
      await deliver({ payload: prEvent('closed', closed(81, '2026-11-24T10:00:00Z')), secret: OLD_SECRET }),
    ).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await proposal(id)).toMatchObject({ pr_state: 'closed' });
  });

  test('GET /proposals?status=pr_merged lists merged proposals; the OpenAPI document describes the route', async () => {
    const listed = await h.request('GET', '/api/v1/proposals?status=pr_merged');
    expect(listed.body.data.length).toBeGreaterThan(0);
    expect(listed.body.data.every((p: { pr_state: string }) => p.pr_state === 'merged')).toBe(true);
    const doc = (await h.request('GET', '/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/webhooks/github'].post;
    expect(op.security).toEqual([]);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '202', '401', '403', '404', '413', '422', '500', '503']);
  });

  test('a webhook_secret_ref must name a secret file; reconcile answers 404 for an unknown repo and 503 without Temporal', async () => {
    const before = await state();
    const bad = await h.request('PATCH', `/api/v1/config-repos/${seeded.repoId}`, {
      body: { webhook_secret_ref: 'no_such_secret' },
    });
    expect(bad).toMatchObject({ status: 400, body: { detail: { error_code: 'AUTH_REF_NOT_FOUND' } } });
    const created = await h.request('POST', '/api/v1/config-repos', {
      body: {
        name: 'hookless',
        repo_url: 'https://github.com/acme/hookless',
        auth_ref: h.refs.good,
        webhook_secret_ref: h.refs.escapingFile,
      },
    });
    expect(created).toMatchObject({ status: 400, body: { detail: { error_code: 'AUTH_REF_NOT_FOUND' } } });
    expect(
      (await h.request('POST', '/api/v1/config-repos/6f1c1a52-3f5e-4d3a-9b7e-1a2b3c4d5e6f/reconcile')).body.detail
        .error_code,
    ).toBe('CONFIG_REPO_NOT_FOUND');
    const unavailable = await h.request('POST', `/api/v1/config-repos/${seeded.repoId}/reconcile`);
    expect(unavailable).toMatchObject({
      status: 503,
      body: { detail: { error_code: 'QUEUE_UNAVAILABLE', retryable: true } },
    });
    expect(await state()).toBe(before);
  }, 30_000);

  test('no webhook secret in any log line or answer', async () => {
    const all = logLines.join('\n');
    for (const secret of [SECRET, OLD_SECRET, OTHER_SECRET]) expect(all).not.toContain(secret);
    const answer = await deliver({
      payload: prEvent('closed', merged(41, '2026-11-21T10:00:00Z')),
      secret: OTHER_SECRET,
    });
    for (const secret of [SECRET, OLD_SECRET, OTHER_SECRET]) expect(answer.text).not.toContain(secret);
    expect(logLines.length).toBeGreaterThan(0);
  });
});

/**
 * A harness on PostgreSQL whose webhook repo (the same as the main harness's) has a proposal
 * recording PR `prNumber`.
 */
async function postgresWithPr(prNumber: number): Promise<{ harness: ApiHarness; owner: string }> {
  const harness = await startApiHarness({ kind: 'postgres' });
  await writeFile(path.join(harness.secretsDir, 'wh_secret'), `${SECRET}\n`);
  const chain = await seedChain(harness, 'wh');
  expect(
    (
      await harness.request('PATCH', `/api/v1/config-repos/${chain.repoId}`, {
        body: { webhook_secret_ref: 'wh_secret' },
      })
    ).status,
  ).toBe(200);
  const created = await harness.request('POST', '/api/v1/proposals', {
    body: {
      cluster_id: chain.clusterId,
      template_id: chain.templateId,
      config_diff: { 'bm25.k1': { from: 1, to: 2 } },
    },
  });
  await markProposalPrOpened(harness.db, {
    id: created.body.id,
    prUrl: `https://github.com/acme/${repoName}/pull/${prNumber}`,
    prNumber,
    branch: BRANCH,
  });
  return { harness, owner: created.body.id as string };
}

describe.each(['pglite', 'postgres'] as const)(
  'values the database cannot store, and payloads nested too deep, on %s: 422 and nothing recorded',
  (kind) => {
    let db: ApiHarness;
    let owner = '';
    beforeAll(async () => {
      if (kind === 'pglite') {
        db = h;
        owner = await newProposalWithPr(91);
      } else {
        ({ harness: db, owner } = await postgresWithPr(91));
      }
    }, 60_000);
    afterAll(async () => {
      if (db !== h) await db.close();
    });

    const closing = () => prEvent('closed', closed(91, '2026-11-25T10:00:00Z'));
    const withHeadRef = (ref: string) => {
      const payload = closing();
      (payload.pull_request as { head: { ref: string } }).head.ref = ref;
      return payload;
    };
    const deep = (levels: number, kind: 'objects' | 'arrays') =>
      JSON.stringify({ ...closing(), extra: 0 }).replace(
        '"extra":0',
        `"extra":${kind === 'objects' ? `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`}`,
      );
    const cases: [name: string, field: string, make: () => Delivery][] = [
      [
        'a NUL in pull_request.head.ref (the branch a proposal is looked up by)',
        'body.pull_request.head.ref',
        () => ({ payload: withHeadRef(`${BRANCH}\u0000`) }),
      ],
      [
        'an unpaired surrogate in pull_request.head.ref',
        'body.pull_request.head.ref',
        () => ({ payload: withHeadRef(`${BRANCH}\ud800`) }),
      ],
      [
        'a NUL in a pull_request action (recorded with the delivery)',
        'body.action',
        () => ({ payload: { ...closing(), action: 'clo\u0000sed' } }),
      ],
      [
        'a NUL in the action of another event',
        'body.action',
        () => ({
          event: 'issues',
          payload: { action: 'opened\u0000', repository: repoJson(ctxOf(repoName)) },
        }),
      ],
      ['a payload with objects nested 10,000 deep', 'body', () => ({ body: deep(10_000, 'objects') })],
      ['a payload with arrays nested 100,000 deep', 'body', () => ({ body: deep(100_000, 'arrays') })],
    ];
    test.each(cases)('%s → 422 naming %s', async (_name, field, make) => {
      const before = await state(db);
      const answer = await deliver(make(), db);
      expect({ status: answer.status, detail: answer.body.detail }).toEqual({
        status: 422,
        detail: expect.objectContaining({ error_code: 'VALIDATION_ERROR', field }),
      });
      expect(await state(db)).toBe(before);
      expect((await db.request('GET', `/api/v1/proposals/${owner}`)).body).toMatchObject({
        status: 'pr_opened',
        pr_state: 'open',
      });
    });

    test('the same close with clean values is applied (the cases above were refused for their value alone)', async () => {
      expect(await deliver({ payload: closing() }, db)).toMatchObject({
        status: 200,
        body: { outcome: 'applied', proposal_id: owner },
      });
    });
  },
);

describe('on PostgreSQL, a delivery whose proposal row another transaction holds', () => {
  let pg: ApiHarness;
  let owner = '';
  beforeAll(async () => {
    ({ harness: pg, owner } = await postgresWithPr(93));
  }, 60_000);
  afterAll(async () => pg?.close());

  test('is answered 503 DATABASE_BUSY while the lock is held (not after it), recording nothing; its redelivery then applies', async () => {
    const delivery = { payload: prEvent('closed', closed(93, '2026-11-27T10:00:00Z')), id: randomUUID() };
    const before = await state(pg);
    await pg.db.sql.withSession(async (holder) => {
      await holder.exec('BEGIN');
      await holder.query('SELECT id FROM proposals WHERE id = $1 FOR UPDATE', [owner]);
      try {
        // Answered while this transaction still holds the row: the handler gave up waiting.
        const answer = await deliver(delivery, pg);
        expect(answer).toMatchObject({
          status: 503,
          body: { detail: { error_code: 'DATABASE_BUSY', retryable: true } },
        });
      } finally {
        await holder.exec('ROLLBACK');
      }
    });
    expect(await state(pg)).toBe(before);
    expect(await deliver(delivery, pg)).toMatchObject({
      status: 200,
      body: { outcome: 'applied', proposal_id: owner },
    });
    expect((await pg.request('GET', `/api/v1/proposals/${owner}`)).body).toMatchObject({ pr_state: 'closed' });
  });
});

describe('organisation and App webhooks: one secret for many repositories', () => {
  test("an organisation's ping, signed with the secret of the config repos under it, is answered 200", async () => {
    expect(await deliver({ event: 'ping', payload: orgPing() })).toMatchObject({
      status: 200,
      body: { outcome: 'pong' },
    });
  });

  test("an organisation's event for a repository no config repo names is 202 ignored; no proposal changes", async () => {
    const before = await h.snapshot();
    const foreign = await deliver({ payload: prEvent('closed', merged(41, '2026-11-21T10:00:00Z'), 'not-registered') });
    expect(foreign).toMatchObject({
      status: 202,
      body: { outcome: 'ignored', reason: expect.stringContaining('not-registered') },
    });
    expect(await h.snapshot()).toBe(before);
  });

  test('an event whose name has a digit is accepted and ignored', async () => {
    const item = {
      action: 'edited',
      projects_v2_item: { id: 1 },
      organization: orgPing().organization,
      sender: userJson(ctxOf(repoName), 'octocat', 3),
    };
    expect(await deliver({ event: 'projects_v2_item', payload: item })).toMatchObject({
      status: 202,
      body: { outcome: 'ignored' },
    });
  });

  test("a GitHub App's ping names only the App: verified against the secrets of the config repos using it", async () => {
    await writeFile(path.join(h.secretsDir, 'app_key'), 'a PEM would be here\n');
    const app = await seedChain(h, 'app');
    expect(
      (
        await h.request('PATCH', `/api/v1/config-repos/${app.repoId}`, {
          body: { webhook_secret_ref: 'wh_secret_other', app: { app_id: 4242, private_key_ref: 'app_key' } },
        })
      ).status,
    ).toBe(200);
    const ping = {
      zen: 'Approachable is better than simple.',
      hook_id: 10,
      hook: { type: 'App', id: 10, app_id: 4242, active: true, events: ['pull_request'] },
    };
    expect(await deliver({ event: 'ping', payload: ping, secret: OTHER_SECRET })).toMatchObject({
      status: 200,
      body: { outcome: 'pong' },
    });
    expect(await deliver({ event: 'ping', payload: ping, secret: SECRET })).toMatchObject({ status: 401 });
    expect(await deliver({ event: 'ping', payload: { ...ping, hook: { ...ping.hook, app_id: 999 } } })).toMatchObject({
      status: 404,
    });
  });
});

describe('a captured delivery replayed under fresh delivery ids', () => {
  test('is a duplicate of the first: answered with its outcome, recorded once, the proposal unmoved', async () => {
    const id = await newProposalWithPr(95);
    const body = JSON.stringify(prEvent('closed', closed(95, '2026-11-26T10:00:00Z')));
    const first = await deliver({ body, id: randomUUID() });
    expect(first).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const firstId = (
      await h.db.sql.query<{ delivery_id: string }>(
        'SELECT delivery_id FROM webhook_deliveries WHERE proposal_id = $1',
        [id],
      )
    )[0]?.delivery_id;
    // Reopened since (GitHub's truth), then the attacker replays the old close, signed as it was.
    expect(await deliver({ payload: prEvent('reopened', reopened(95, '2026-11-26T10:05:00Z')) })).toMatchObject({
      body: { outcome: 'applied' },
    });
    const rowsBefore = (await h.db.sql.query('SELECT 1 FROM webhook_deliveries')).length;
    for (let i = 0; i < 5; i++) {
      const replay = await deliver({ body, id: randomUUID() });
      expect(replay).toMatchObject({
        status: 200,
        body: { outcome: 'duplicate', first_outcome: 'applied', first_delivery: firstId },
      });
    }
    expect((await h.db.sql.query('SELECT 1 FROM webhook_deliveries')).length).toBe(rowsBefore);
    expect(await proposal(id)).toMatchObject({ pr_state: 'open', pr_state_at: '2026-11-26T10:05:00.000Z' });
    // The same event for another PR is a different body: it is handled.
    const other = await newProposalWithPr(96);
    expect(await deliver({ payload: prEvent('closed', closed(96, '2026-11-26T10:00:00Z')) })).toMatchObject({
      status: 200,
      body: { outcome: 'applied', proposal_id: other },
    });
  });
});

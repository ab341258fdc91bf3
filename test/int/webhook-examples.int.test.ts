// GitHub's own published webhook payloads (@octokit/webhooks-examples, api.github.com), not ours
//: every `pull_request` example — each action GitHub documents — every `ping` (a
// repository's, an App's, an organisation's) and every `projects_v2_item` (an event name with a
// digit, sent by organisation webhooks), signed as GitHub signs them and sent with GitHub's headers
// through the route. Each asserts the answer and the proposal row: only `closed` and `reopened`
// move pr_state; everything else leaves the row as it was.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { markProposalPrOpened } from '../../db/proposals.js';
import { seedChain, startApiHarness, type ApiHarness } from '../support/api-harness.js';

interface ExampleSet {
  name: string;
  examples: Record<string, unknown>[];
}
const examples = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
) as ExampleSet[];
const of = (name: string) => examples.find((e) => e.name === name)?.examples ?? [];

const SECRET = 'whsec-examples-0f1e2d3c4b5a69788796a5b4';
/** Recorded before every example's time, so each is judged against an older fact. */
const RECORDED_AT = '2019-05-15T15:00:00.000Z';
let h: ApiHarness;
let proposalId = '';

async function deliver(
  event: string,
  payload: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const target = (payload.repository ?? payload.organization) as { id?: number } | undefined;
  const res = await fetch(`${h.url}/api/v1/webhooks/github`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': randomUUID(),
      'x-github-hook-id': '292430182',
      'x-github-hook-installation-target-id': String(target?.id ?? 0),
      'x-github-hook-installation-target-type': payload.repository === undefined ? 'organization' : 'repository',
      'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function row(): Promise<{ status: string; pr_state: string; pr_state_at: string }> {
  const [r] = await h.db.sql.query<{ status: string; pr_state: string; pr_state_at: Date }>(
    'SELECT status::text AS status, pr_state::text AS pr_state, pr_state_at FROM proposals WHERE id = $1',
    [proposalId],
  );
  return { status: r?.status ?? '', pr_state: r?.pr_state ?? '', pr_state_at: r?.pr_state_at.toISOString() ?? '' };
}

beforeAll(async () => {
  h = await startApiHarness({ kind: 'pglite' });
  await writeFile(path.join(h.secretsDir, 'wh_examples'), `${SECRET}\n`);
  // The examples' repositories: Codertocat/Hello-World (pull requests), Octocoders/Hello-World
  // (pings, and its organisation's events).
  for (const [suffix, url] of [
    ['codertocat', 'https://github.com/Codertocat/Hello-World'],
    ['octocoders', 'https://github.com/Octocoders/Hello-World'],
  ]) {
    const repo = await h.request('POST', '/api/v1/config-repos', {
      body: { name: `examples-${suffix}`, repo_url: url, auth_ref: h.refs.good, webhook_secret_ref: 'wh_examples' },
    });
    expect(repo.status).toBe(201);
    if (suffix !== 'codertocat') continue;
    const chain = await seedChain(h, 'examples');
    expect(
      (await h.request('PATCH', `/api/v1/clusters/${chain.clusterId}`, { body: { config_repo_id: repo.body.id } }))
        .status,
    ).toBe(200);
    const created = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: chain.clusterId,
        template_id: chain.templateId,
        config_diff: { 'bm25.k1': { from: 1, to: 2 } },
      },
    });
    proposalId = created.body.id as string;
    // The PR every pull_request example is about: #2, head branch `changes`.
    await markProposalPrOpened(h.db, { id: proposalId, prUrl: `${url}/pull/2`, prNumber: 2, branch: 'changes' });
  }
}, 60_000);
afterAll(async () => h?.close());

beforeEach(async () => {
  // Each example alone: the PR recorded open at RECORDED_AT, no delivery seen before.
  await h.db.sql.query(`UPDATE proposals SET status = 'pr_opened', pr_state = 'open', pr_state_at = $2 WHERE id = $1`, [
    proposalId,
    RECORDED_AT,
  ]);
  await h.db.sql.query('DELETE FROM webhook_deliveries');
});

describe("pull_request: every action of GitHub's examples", () => {
  const cases = of('pull_request').map((payload, i) => {
    const action = String(payload.action);
    const at = String((payload.pull_request as { updated_at: string }).updated_at).replace('Z', '.000Z');
    const expected =
      action === 'closed'
        ? { status: 200, outcome: 'applied', row: { pr_state: 'closed', pr_state_at: at } }
        : action === 'reopened'
          ? { status: 200, outcome: 'applied', row: { pr_state: 'open', pr_state_at: at } }
          : { status: 202, outcome: 'ignored', row: { pr_state: 'open', pr_state_at: RECORDED_AT } };
    return { name: `#${i + 1} ${action}`, payload, expected };
  });

  test('the examples cover the actions that change pr_state and at least ten that do not', () => {
    const actions = new Set(cases.map((c) => String(c.payload.action)));
    expect([actions.has('closed'), actions.has('reopened'), actions.size >= 12]).toEqual([true, true, true]);
  });

  test.each(cases)(
    '$name → $expected.status $expected.outcome, pr_state $expected.row.pr_state',
    async ({ payload, expected }) => {
      const answer = await deliver('pull_request', payload);
      expect({ status: answer.status, outcome: answer.body.outcome }).toEqual({
        status: expected.status,
        outcome: expected.outcome,
      });
      expect(await row()).toEqual({ status: 'pr_opened', ...expected.row });
    },
  );

  test("a merge: GitHub's `closed` example as GitHub sends it for a merged PR (merged, merged_at) → 200 applied, pr_merged", async () => {
    const closed = structuredClone(cases.find((c) => c.payload.action === 'closed')?.payload) as {
      pull_request: Record<string, unknown>;
    };
    const at = String(closed.pull_request.closed_at);
    Object.assign(closed.pull_request, { merged: true, merged_at: at, merge_commit_sha: 'c'.repeat(40) });
    expect(await deliver('pull_request', closed)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await row()).toEqual({ status: 'pr_merged', pr_state: 'merged', pr_state_at: at.replace('Z', '.000Z') });
  });
});

describe("ping: a repository's, an App's and an organisation's hook", () => {
  const cases = of('ping').map((payload, i) => ({
    name: `#${i + 1} ${String((payload.hook as { type: string }).type)}${payload.repository === undefined ? '' : ' (with a repository)'}`,
    payload,
  }));
  test.each(cases)('$name → 200 pong, the proposal unchanged', async ({ payload }) => {
    const before = await row();
    expect(await deliver('ping', payload)).toMatchObject({ status: 200, body: { outcome: 'pong' } });
    expect(await row()).toEqual(before);
  });
});

describe("projects_v2_item: an organisation's event, its name with a digit", () => {
  const cases = of('projects_v2_item').map((payload, i) => {
    const orgUrl = String((payload.organization as { url: string }).url);
    // Octocoders has a config repo (its secret verifies the delivery); `github` has none.
    const known = orgUrl.endsWith('/orgs/Octocoders');
    return {
      name: `#${i + 1} ${String(payload.action)} (${orgUrl})`,
      payload,
      status: known ? 202 : 404,
      code: known ? undefined : 'CONFIG_REPO_NOT_FOUND',
    };
  });
  test.each(cases)('$name → $status', async ({ payload, status, code }) => {
    const before = await row();
    const answer = await deliver('projects_v2_item', payload);
    expect(answer.status).toBe(status);
    if (code === undefined) expect(answer.body).toMatchObject({ outcome: 'ignored' });
    else expect(answer.body).toMatchObject({ detail: { error_code: code } });
    expect(await row()).toEqual(before);
  });
});

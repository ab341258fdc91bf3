// The reconciliation activity against the GitHub sandbox and a real database: it
// reads back each PR whose recorded state may still change (open, or closed within the window)
// and corrects the proposal, conditionally on the last read's ETag (an unchanged PR is a 304),
// counts a recorded PR GitHub does not have and a closed PR past the window, heartbeats its
// progress, and a retried attempt resumes after the last proposal the abandoned one finished.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAppTokenSource } from '../../adapters/github/app-tokens.js';
import { createReconcileActivities } from '../../activities/forge/reconcile-activities.js';
import type { ReconcileRepoResult } from '../../activities/types.js';
import { insertConfigRepo } from '../../db/config-repos.js';
import { markProposalPrOpened } from '../../db/proposals.js';
import { createMemoryGitHubPacer, GITHUB_PACING_RULES } from '../../domain/github-pacing.js';
import { Redactor } from '../../domain/redact.js';
import { pushBranch } from '../../sandbox/branches.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';

const TOKEN = `ghp_${'Rc0nc1le'.repeat(4)}xxxx`;
const WINDOW_MS = 30 * 86_400_000;
let h: ApiHarness;
let sandbox: GitHubSandbox;
let repoId = '';
const rows: { proposalId: string; pr: number }[] = [];

async function github(method: string, apiPath: string, body?: unknown): Promise<number> {
  const res = await fetch(`${sandbox.apiBaseUrl}${apiPath}`, {
    method,
    headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

function activities() {
  return createReconcileActivities({
    db: h.db,
    secretsDir: h.secretsDir,
    redactor: new Redactor(),
    appTokens: createAppTokenSource({ redactor: new Redactor() }),
    hostPolicies: { github: { hosts: ['github.com', sandbox.host], httpHosts: [sandbox.host] }, gitea: { hosts: [] } },
    pacer: createMemoryGitHubPacer({ ...GITHUB_PACING_RULES, writeGapMs: 0 }),
    limiter: { writeMinTimeMs: 0 },
    closedWindowMs: WINDOW_MS,
  });
}

/** The token's primary rate-limit use so far, as GitHub reports it (X-RateLimit-Used; this probe counts too). */
async function rateLimitUsed(): Promise<number> {
  const res = await fetch(`${sandbox.apiBaseUrl}/repos/acme/reconcile`, {
    headers: { authorization: `token ${TOKEN}` },
  });
  await res.arrayBuffer();
  return Number(res.headers.get('x-ratelimit-used'));
}

async function prState(id: string): Promise<{ status: string; pr_state: string }> {
  const [row] = await h.db.sql.query<{ status: string; pr_state: string }>(
    'SELECT status::text AS status, pr_state::text AS pr_state FROM proposals WHERE id = $1',
    [id],
  );
  return row as { status: string; pr_state: string };
}

beforeAll(async () => {
  h = await startApiHarness({ kind: 'pglite' });
  sandbox = await startGitHubSandbox();
  await writeFile(path.join(h.secretsDir, 'gh_reconcile'), TOKEN);
  await sandbox.createRepo({ owner: 'acme', repo: 'reconcile', token: TOKEN, files: { 'p.json': '{}\n' } });
  const post = async (p: string, body: unknown) =>
    (await h.request('POST', `/api/v1${p}`, { body })).body as { id: string };
  // Straight into the table: the API's host policy (github.com, ghe.example.com) does not list the sandbox.
  const repo = await insertConfigRepo(h.db, {
    name: 'reconcile',
    provider: 'github',
    repoUrl: sandbox.repoUrl('acme', 'reconcile'),
    defaultBranch: 'main',
    prBaseBranch: 'main',
    authRef: 'gh_reconcile',
    webhookSecretRef: null,
  });
  if (repo === 'name_taken') throw new Error('name taken');
  repoId = repo.id;
  const cluster = await post('/clusters', { name: 'rc', config_repo_id: repoId, config_path: 'x' });
  const template = await post('/templates', { cluster_id: cluster.id, name: 't', declared_params: ['a'] });
  // Four proposals with open PRs #1–#4; #5 is recorded but GitHub has no such PR.
  for (let n = 1; n <= 5; n++) {
    const proposal = await post('/proposals', {
      cluster_id: cluster.id,
      template_id: template.id,
      config_diff: { a: { from: 1, to: n } },
    });
    const branch = `relyloop/proposal-${proposal.id}`;
    if (n <= 4) {
      await pushBranch(sandbox, {
        owner: 'acme',
        repo: 'reconcile',
        token: TOKEN,
        branch,
        files: { [`f${n}.json`]: `${n}\n` },
      });
      expect(await github('POST', '/repos/acme/reconcile/pulls', { head: branch, base: 'main', title: `P${n}` })).toBe(
        201,
      );
    }
    await markProposalPrOpened(h.db, {
      id: proposal.id,
      prUrl: `${sandbox.repoUrl('acme', 'reconcile')}/pull/${n}`,
      prNumber: n,
      branch,
    });
    rows.push({ proposalId: proposal.id, pr: n });
  }
  rows.sort((a, b) => a.proposalId.localeCompare(b.proposalId)); // the order the activity walks
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
  await h?.close();
});

describe('reconcileRepoPrs', () => {
  test('a retried attempt resumes after its last heartbeat; every state GitHub has is applied once', async () => {
    // GitHub's truth, none of it delivered: #1 merged, #2 closed, #3 and #4 open.
    expect(await github('PUT', '/repos/acme/reconcile/pulls/1/merge', {})).toBe(200);
    expect(await github('PATCH', '/repos/acme/reconcile/pulls/2', { state: 'closed' })).toBe(200);
    const byPr = (n: number) => rows.find((r) => r.pr === n) as { proposalId: string };

    // An abandoned attempt heartbeated after the first proposal in walk order.
    const first = rows[0] as { proposalId: string; pr: number };
    const resumed = {
      after: first.proposalId,
      result: {
        checked: 1,
        unchanged: 0,
        corrected: 0,
        missing: 0,
        skipped: 0,
        corrections: [],
      } satisfies ReconcileRepoResult,
    };
    const env = new MockActivityEnvironment({ heartbeatDetails: resumed, heartbeatTimeoutMs: 10_000 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const gets = () =>
      sandbox.requests
        .filter((r) => r.method === 'GET' && /\/pulls\/\d+$/.test(r.path))
        .map((r) => Number(r.path.split('/').at(-1)));
    const before = gets().length;
    const result = (await env.run(activities().reconcileRepoPrs, { configRepoId: repoId })) as ReconcileRepoResult;

    expect(gets().slice(before).sort()).toEqual(
      rows
        .slice(1)
        .map((r) => r.pr)
        .sort(),
    );
    expect(result.checked).toBe(5);
    expect(result.missing).toBe(first.pr === 5 ? 0 : 1);
    expect(beats).toHaveLength(4);
    expect(beats.at(-1)).toMatchObject({ after: (rows.at(-1) as { proposalId: string }).proposalId });

    // Whatever the first attempt did not get to was corrected now; run again from scratch for the rest.
    const again = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 }).run(
      activities().reconcileRepoPrs,
      { configRepoId: repoId },
    )) as ReconcileRepoResult;
    expect(await prState(byPr(1).proposalId)).toEqual({ status: 'pr_merged', pr_state: 'merged' });
    expect(await prState(byPr(2).proposalId)).toEqual({ status: 'pr_opened', pr_state: 'closed' });
    expect(await prState(byPr(3).proposalId)).toEqual({ status: 'pr_opened', pr_state: 'open' });
    expect(result.corrected + again.corrected).toBe(2);
    expect(again.corrections.length).toBe(again.corrected);
    // The second run reads every state that may still change: the closed #2, the open #3 and #4,
    // the missing #5, and #1 too when the resumed attempt skipped it (its merge was not seen yet).
    // What the first run read is asked conditionally: unchanged, GitHub answers 304.
    expect(again).toMatchObject({
      checked: first.pr === 1 ? 5 : 4,
      unchanged: [2, 3, 4].includes(first.pr) ? 2 : 3,
      missing: 1,
      skipped: 0,
    });
    expect(await activities().listReposToReconcile()).toContain(repoId);
  }, 60_000);

  test('a missed reopen is caught up; a PR closed longer than the window is not read, and counted as skipped', async () => {
    const byPr = (n: number) => rows.find((r) => r.pr === n) as { proposalId: string };
    expect(await prState(byPr(2).proposalId)).toEqual({ status: 'pr_opened', pr_state: 'closed' });
    // Reopened on GitHub; the webhook never arrived.
    expect(await github('PATCH', '/repos/acme/reconcile/pulls/2', { state: 'open' })).toBe(200);
    // #3 closed, recorded so, long ago: past the window.
    expect(await github('PATCH', '/repos/acme/reconcile/pulls/3', { state: 'closed' })).toBe(200);
    await h.db.sql.query(
      `UPDATE proposals SET pr_state = 'closed', pr_state_at = now() - interval '31 days' WHERE id = $1`,
      [byPr(3).proposalId],
    );
    const before = sandbox.requests.length;
    const usedBefore = await rateLimitUsed();
    const result = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 }).run(
      activities().reconcileRepoPrs,
      { configRepoId: repoId },
    )) as ReconcileRepoResult;
    expect(result).toMatchObject({
      corrected: 1,
      skipped: 1,
      corrections: [{ prNumber: 2, from: 'closed', to: 'open' }],
    });
    // Three reads, of which the 304 did not count against the token's primary rate limit (+1: the probe).
    expect((await rateLimitUsed()) - usedBefore).toBe(2 + 1);
    expect(await prState(byPr(2).proposalId)).toEqual({ status: 'pr_opened', pr_state: 'open' });
    const read = sandbox.requests.slice(before).filter((r) => r.method === 'GET' && /\/pulls\/\d+$/.test(r.path));
    expect(read.map((r) => Number(r.path.split('/').at(-1)))).not.toContain(3);
    // #2 changed since its last read (200 with a new ETag); #4 did not (304); #5 is still missing (404).
    expect(Object.fromEntries(read.map((r) => [Number(r.path.split('/').at(-1)), r.status]))).toEqual({
      2: 200,
      4: 304,
      5: 404,
    });
  }, 30_000);

  test('a config repo deleted meanwhile has nothing to reconcile; the delivery log is pruned by age', async () => {
    const gone = await new MockActivityEnvironment().run(activities().reconcileRepoPrs, {
      configRepoId: '6f1c1a52-3f5e-4d3a-9b7e-1a2b3c4d5e6f',
    });
    expect(gone).toEqual({ checked: 0, unchanged: 0, corrected: 0, missing: 0, skipped: 0, corrections: [] });
    await h.db.sql.query(
      `INSERT INTO webhook_deliveries (delivery_id, event, outcome, received_at) VALUES ('old', 'ping', 'pong', now() - interval '31 days'), ('new', 'ping', 'pong', now())`,
    );
    expect(await activities().pruneWebhookDeliveries()).toBe(1);
    expect(
      (await h.db.sql.query<{ delivery_id: string }>('SELECT delivery_id FROM webhook_deliveries')).map(
        (r) => r.delivery_id,
      ),
    ).toEqual(['new']);
  });
});

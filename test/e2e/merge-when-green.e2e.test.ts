// Merge when green, end to end: a real Temporal dev server, PostgreSQL and the GitHub sandbox with
// check runs, commit statuses, required checks, auto-merge and a merge queue, its REST answers
// checked against GitHub's OpenAPI description and every GraphQL document against GitHub's
// published schema. The PR merges once its checks pass (the service's own wait, GitHub's
// auto-merge, the merge queue), never on a failed check or a head that moved, and a rejection
// during the wait closes it; webhooks wake the wait, the read-back catches what they missed.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mergeStateQuery } from '../../domain/merge-contracts.js';
import { pushBranch } from '../../sandbox/branches.js';
import { git } from '../support/git-cli.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { branchOf, PARAMS_PATH, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { saveHistory } from '../support/history-fixtures.js';
import { sandboxRest } from '../support/sandbox-rest.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'whsec-merge-2f7c9e1d4b6a8c0e';
const CHECK = 'ci/test';
let h: OpenPrHarness;

beforeAll(async () => {
  // Reads back every 2 s without a webhook (the default is 5 minutes); gives up after 15 s (3 days).
  h = await startOpenPrHarness({
    env: { RELYLOOP_MERGE_READBACK_INTERVAL: '2s', RELYLOOP_MERGE_CHECKS_TIMEOUT: '15s' },
  });
  await writeFile(path.join(h.root, 'secrets', 'wh_merge'), `${SECRET}\n`);
}, 120_000);
afterAll(async () => h?.close(), 60_000);

interface Opened {
  s: Seeded;
  pr: number;
  head: string;
}

/** A manual proposal on a repo that merges when green (ci/test required on main), its PR opened. */
async function openedWithMerge(
  opts: { method?: string; webhook?: boolean; autoMerge?: boolean; mergeQueue?: boolean; record?: string } = {},
): Promise<Opened> {
  const s = await seedProposal(h, { study: false });
  h.sandbox.setRequiredChecks(OWNER, s.repoName, 'main', [CHECK]);
  if (opts.autoMerge) h.sandbox.setAutoMergeAllowed(OWNER, s.repoName, true);
  if (opts.mergeQueue) h.sandbox.setMergeQueue(OWNER, s.repoName, 'main', true);
  const patched = await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
    pr_options: { supersede: false, merge: { when: 'checks_pass', method: opts.method ?? 'merge' } },
    ...(opts.webhook === false ? {} : { webhook_secret_ref: 'wh_merge' }),
  });
  expect(patched.body.pr_options.merge).toEqual({ when: 'checks_pass', method: opts.method ?? 'merge' });
  if (opts.webhook !== false)
    h.sandbox.configureWebhook(OWNER, s.repoName, {
      url: `${h.apiUrl}/api/v1/webhooks/github`,
      secret: SECRET,
      events: ['pull_request', 'status', 'check_run'],
    });
  const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  const outcome = await h.env.client.workflow.getHandle(res.body.workflow_id).result();
  if (opts.record !== undefined)
    await saveHistory(
      `open-pr-${opts.record}`,
      await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(),
    );
  expect(outcome).toMatchObject({ outcome: 'opened', merge: { workflowId: `merge:${s.proposalId}` } });
  const [pull] = h.sandbox.pulls(OWNER, s.repoName);
  if (pull === undefined) throw new Error('no PR');
  return { s, pr: pull.number, head: pull.head.sha };
}

async function setStatus(o: Opened, state: string, sha = o.head): Promise<void> {
  const res = await sandboxRest(h.sandbox, 'POST', `/repos/${OWNER}/${o.s.repoName}/statuses/${sha}`, {
    state,
    context: CHECK,
  });
  expect({ status: res.status, body: res.json }).toEqual({ status: 201, body: expect.objectContaining({ state }) });
}

async function row(o: Opened) {
  return (await h.api('GET', `/proposals/${o.s.proposalId}`)).body as {
    status: string;
    pr_state: string;
    merge_state: string | null;
    merge_note: string | null;
  };
}

const mergeResult = (o: Opened) => h.env.client.workflow.getHandle(`merge:${o.s.proposalId}`).result();
/** Keeps the merge wait's history for the replay test (RECORD_HISTORIES=1). */
const recordMerge = async (o: Opened, name: string) =>
  saveHistory(name, await h.env.client.workflow.getHandle(`merge:${o.s.proposalId}`).fetchHistory());

async function waitForMergeState(o: Opened, state: string): Promise<void> {
  await waitUntil(`merge_state ${state}`, async () => (await row(o)).merge_state === state, 20_000);
}

const pullOf = (o: Opened) => h.sandbox.pulls(OWNER, o.s.repoName).find((p) => p.number === o.pr);

describe('merge when the checks pass', () => {
  test("the service's own wait: pending, then success through the status webhook → merged at the head, pr_merged", async () => {
    const o = await openedWithMerge({ record: 'merge-when-green' });
    await waitForMergeState(o, 'waiting');
    await setStatus(o, 'pending');
    await setStatus(o, 'success');
    expect(await mergeResult(o)).toEqual({ state: 'merged', note: null });
    await recordMerge(o, 'merge-when-green-own-wait');
    expect(pullOf(o)).toMatchObject({ state: 'closed', merged: true });
    expect(await row(o)).toMatchObject({ status: 'pr_merged', pr_state: 'merged', merge_state: 'merged' });
    const bare = h.sandbox.bareDir(OWNER, o.s.repoName);
    expect(await git(bare, 'show', `main:${PARAMS_PATH}`)).toContain('1.35');
    // The status webhook woke the wait (the delivery was handled as a signal to it).
    await h.sandbox.webhooksSettled();
    const deliveries = await h.db.sql.query<{ event: string; outcome: string }>(
      'SELECT event, outcome FROM webhook_deliveries WHERE proposal_id = $1::uuid',
      [o.s.proposalId],
    );
    expect(deliveries).toContainEqual({ event: 'status', outcome: 'signalled' });
    const view = await h.api('GET', `/proposals/${o.s.proposalId}/open_pr`);
    expect(view.body.merge).toEqual({ state: 'merged', note: null, workflow_id: `merge:${o.s.proposalId}` });
  }, 120_000);

  test('a failed check run ends the wait: checks_failed names it, the PR stays open, the proposal pr_opened', async () => {
    const o = await openedWithMerge();
    const created = await sandboxRest(h.sandbox, 'POST', `/repos/${OWNER}/${o.s.repoName}/check-runs`, {
      name: CHECK,
      head_sha: o.head,
      status: 'in_progress',
    });
    expect(created.status).toBe(201);
    expect(
      (
        await sandboxRest(h.sandbox, 'PATCH', `/repos/${OWNER}/${o.s.repoName}/check-runs/${String(created.json.id)}`, {
          conclusion: 'failure',
        })
      ).status,
    ).toBe(200);
    expect(await mergeResult(o)).toEqual({ state: 'checks_failed', note: `failed: ${CHECK}` });
    expect(pullOf(o)).toMatchObject({ state: 'open' });
    expect(await row(o)).toMatchObject({ status: 'pr_opened', pr_state: 'open', merge_state: 'checks_failed' });
    const view = await h.api('GET', `/proposals/${o.s.proposalId}/open_pr`);
    expect(view.body.merge).toMatchObject({ state: 'checks_failed', note: `failed: ${CHECK}` });
  }, 120_000);

  test('no webhook at all: the read-back finds the passed check and merges (squash)', async () => {
    const o = await openedWithMerge({ webhook: false, method: 'squash' });
    // The wait has read the checks once (pending) and sleeps until the next read-back.
    await waitUntil(
      'the first read of the checks',
      async () => {
        const view = await h.env.client.workflow.getHandle(`merge:${o.s.proposalId}`).query(mergeStateQuery);
        return view.checks.some((c) => c.name === CHECK && c.state === 'pending');
      },
      20_000,
    );
    await setStatus(o, 'success');
    expect(await mergeResult(o)).toEqual({ state: 'merged', note: null });
    expect(await row(o)).toMatchObject({ status: 'pr_merged', merge_state: 'merged' });
    // A squash merge: one parent.
    const bare = h.sandbox.bareDir(OWNER, o.s.repoName);
    expect((await git(bare, 'rev-list', '--parents', '-n', '1', 'main')).split(' ')).toHaveLength(2);
  }, 120_000);

  test("GitHub's auto-merge where the repository allows it: enabled through GraphQL, GitHub merges once the check passes", async () => {
    const o = await openedWithMerge({ autoMerge: true });
    await waitForMergeState(o, 'auto_merge');
    expect(pullOf(o)?.auto_merge).toMatchObject({ merge_method: 'merge' });
    await setStatus(o, 'success');
    expect(await mergeResult(o)).toEqual({ state: 'merged', note: null });
    await recordMerge(o, 'merge-when-green-auto-merge');
    expect(await row(o)).toMatchObject({ status: 'pr_merged', merge_state: 'merged' });
    // GitHub merged it (auto-merge), not a PUT …/merge of the service.
    const merges = h.sandbox.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith(`/${o.s.repoName}/pulls/${o.pr}/merge`),
    );
    expect(merges).toEqual([]);
  }, 120_000);

  test('a base branch with a merge queue: the PR is enqueued through GraphQL and merged from the queue', async () => {
    const o = await openedWithMerge({ mergeQueue: true, autoMerge: true });
    await waitForMergeState(o, 'queued');
    expect(pullOf(o)?.queued).toBe(true);
    await setStatus(o, 'success');
    expect(await mergeResult(o)).toEqual({ state: 'merged', note: null });
    expect(await row(o)).toMatchObject({ status: 'pr_merged', merge_state: 'merged' });
  }, 120_000);

  test('a head that moved is never merged: someone pushed to the branch, its checks pass, the wait ends head_moved', async () => {
    const o = await openedWithMerge();
    const moved = await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: o.s.repoName,
      token: GH_TOKEN,
      branch: branchOf(o.s),
      from: branchOf(o.s),
      files: { 'extra.txt': 'pushed by someone\n' },
    });
    await setStatus(o, 'success', moved);
    const result = await mergeResult(o);
    expect(result).toMatchObject({ state: 'head_moved' });
    expect(result.note).toContain(o.head.slice(0, 12));
    expect(pullOf(o)).toMatchObject({ state: 'open' });
    expect(await row(o)).toMatchObject({ status: 'pr_opened', merge_state: 'head_moved' });
  }, 120_000);

  test('rejected during the wait: the wait stops, the PR is closed and its branch deleted, never merged', async () => {
    const o = await openedWithMerge({ autoMerge: true });
    await waitForMergeState(o, 'auto_merge');
    const rejected = await h.api('POST', `/proposals/${o.s.proposalId}/reject`, { reason: 'not this one' });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejected_reason: 'not this one' });
    expect(await mergeResult(o)).toEqual({ state: 'cancelled', note: 'rejected: not this one' });
    await recordMerge(o, 'merge-when-green-rejected');
    expect(pullOf(o)).toMatchObject({ state: 'closed', auto_merge: null });
    expect(pullOf(o)?.merged).not.toBe(true);
    const bare = h.sandbox.bareDir(OWNER, o.s.repoName);
    expect(await git(bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe('refs/heads/main');
    expect(await row(o)).toMatchObject({ status: 'rejected', pr_state: 'closed', merge_state: 'cancelled' });
    // A check passing afterwards merges nothing.
    await setStatus(o, 'success');
    expect(pullOf(o)?.merged).not.toBe(true);
  }, 120_000);

  test('GitHub failing for a moment while the wait reads the checks: the read is retried, the merge goes through', async () => {
    const o = await openedWithMerge();
    await waitForMergeState(o, 'waiting');
    h.sandbox.injectFaults({
      method: 'GET',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${o.s.repoName}/commits/[0-9a-f]{40}/status$`),
      faults: [{ status: 502 }, { reset: true }],
    });
    await setStatus(o, 'success');
    expect(await mergeResult(o)).toEqual({ state: 'merged', note: null });
    expect(await row(o)).toMatchObject({ status: 'pr_merged', merge_state: 'merged' });
    // What the wait cost on GitHub: the GraphQL look at auto-merge and the queue, reads of the checks
    // in fours (the PR, the branch's rules, check runs, combined status), and one merge at the head.
    const repoApi = `/api/v3/repos/${OWNER}/${o.s.repoName}`;
    const spent = h.sandbox.requests.filter(
      (r) => r.kind === 'rest' && (r.path.startsWith(repoApi) || r.path.endsWith('graphql')),
    );
    const count = (re: RegExp) => spent.filter((r) => re.test(`${r.method} ${r.path}`)).length;
    const rules = count(/^GET .*\/rules\/branches\//);
    expect(count(/^GET .*\/check-runs$/)).toBe(rules);
    expect(count(/^PUT .*\/pulls\/\d+\/merge$/)).toBe(1);
    expect(rules).toBeGreaterThanOrEqual(1);
  }, 120_000);

  test('checks that never finish: the wait times out, GitHub’s auto-merge is disabled, the PR stays open', async () => {
    const o = await openedWithMerge({ autoMerge: true });
    await setStatus(o, 'pending');
    expect(await mergeResult(o)).toEqual({ state: 'timed_out', note: `still pending: ${CHECK}` });
    expect(pullOf(o)).toMatchObject({ state: 'open', auto_merge: null });
    expect(await row(o)).toMatchObject({ status: 'pr_opened', merge_state: 'timed_out' });
  }, 120_000);

  test('someone closes the PR during the wait: the pull_request webhook ends it, closed', async () => {
    const o = await openedWithMerge();
    await waitForMergeState(o, 'waiting');
    expect(
      (await sandboxRest(h.sandbox, 'PATCH', `/repos/${OWNER}/${o.s.repoName}/pulls/${o.pr}`, { state: 'closed' }))
        .status,
    ).toBe(200);
    expect(await mergeResult(o)).toEqual({ state: 'closed', note: `PR #${o.pr} was closed` });
    expect(await row(o)).toMatchObject({ status: 'pr_opened', pr_state: 'closed', merge_state: 'closed' });
  }, 120_000);

  test('superseded during the wait: the newer proposal closes the PR and its wait ends, closed; the newer one waits', async () => {
    const o = await openedWithMerge();
    await waitForMergeState(o, 'waiting');
    expect(
      (
        await h.api('PATCH', `/config-repos/${o.s.configRepoId}`, {
          pr_options: { supersede: true, merge: { when: 'checks_pass', method: 'merge' } },
        })
      ).status,
    ).toBe(200);
    const newer = await seedProposal(h, { reuse: o.s, study: false, diff: { 'bm25.k1': { from: 1.2, to: 1.5 } } });
    const res = await h.api('POST', `/proposals/${newer.proposalId}/open_pr`);
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({
      supersede: { superseded: [{ proposalId: o.s.proposalId }] },
      merge: { workflowId: `merge:${newer.proposalId}` },
    });
    const ended = await mergeResult(o);
    expect(ended.state).toBe('closed');
    expect(await row(o)).toMatchObject({ status: 'superseded', merge_state: 'closed' });
    await waitUntil(
      'the newer merge waits',
      async () => (await h.api('GET', `/proposals/${newer.proposalId}`)).body.merge_state === 'waiting',
      20_000,
    );
  }, 120_000);

  test('a proposal whose PR is not waiting to merge cannot be rejected (409)', async () => {
    const o = await openedWithMerge();
    await setStatus(o, 'success');
    await mergeResult(o);
    const res = await h.api('POST', `/proposals/${o.s.proposalId}/reject`);
    expect({ status: res.status, code: res.body.detail.error_code }).toEqual({
      status: 409,
      code: 'INVALID_STATE_TRANSITION',
    });
  }, 120_000);

  test('the sandbox saw no GraphQL document or REST body off GitHub’s published descriptions', () => {
    expect(h.sandbox.validationFailures).toEqual([]);
    expect(h.sandbox.answerFailures).toEqual([]);
    expect(h.sandbox.requests.some((r) => r.path.endsWith('/graphql'))).toBe(true);
  });
});

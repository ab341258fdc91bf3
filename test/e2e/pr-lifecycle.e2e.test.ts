// The PR after it opened, end to end: a real Temporal dev server, PostgreSQL, the
// GitHub sandbox delivering signed webhooks to the service's API. Merge → pr_merged; close →
// closed; reopen → open; a dropped delivery is fixed by the reconciliation (run for the repo over
// the API and by its Temporal Schedule); duplicated and reordered deliveries change nothing wrong.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RECONCILE_SCHEDULE_ID, type ReconcileSummary } from '../../domain/reconcile-contracts.js';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { createLogger } from '../../runtime/logger.js';
import { ensureReconcileSchedule } from '../../worker/reconcile-schedule.js';
import { pushBranch } from '../../sandbox/branches.js';
import { git } from '../support/git-cli.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { PARAMS_PATH, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { sandboxRest } from '../support/sandbox-rest.js';
import { TEST_NAMESPACE } from '../support/temporal.js';
import { waitUntil } from '../support/wait.js';

const SECRET = 'whsec-e2e-7f3c2b1a0e9d8c7b6a5f4e3d';
let h: OpenPrHarness;

interface Opened {
  s: Seeded;
  pr: number;
  path: string;
}

const github = (method: string, apiPath: string, body?: unknown) => sandboxRest(h.sandbox, method, apiPath, body);

/** A proposal whose PR is open, on a repo whose webhook points at the service. */
async function openedProposal(): Promise<Opened> {
  const s = await seedProposal(h, { study: false });
  expect((await h.api('PATCH', `/config-repos/${s.configRepoId}`, { webhook_secret_ref: 'wh_acme' })).status).toBe(200);
  h.sandbox.configureWebhook(OWNER, s.repoName, { url: `${h.apiUrl}/api/v1/webhooks/github`, secret: SECRET });
  const started = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(started.status).toBe(202);
  await h.env.client.workflow.getHandle(started.body.workflow_id).result();
  const row = await proposal(s.proposalId);
  expect(row).toMatchObject({ status: 'pr_opened', pr_state: 'open' });
  return { s, pr: row.pr_number, path: `/repos/${OWNER}/${s.repoName}/pulls/${row.pr_number}` };
}

async function proposal(
  id: string,
): Promise<{ status: string; pr_state: string; pr_state_at: string | null; pr_number: number }> {
  return (await h.api('GET', `/proposals/${id}`)).body;
}

async function waitForState(id: string, want: { status?: string; pr_state: string }): Promise<void> {
  await waitUntil(
    `proposal ${id} to be ${JSON.stringify(want)}`,
    async () => {
      const p = await proposal(id);
      return p.pr_state === want.pr_state && (want.status === undefined || p.status === want.status);
    },
    15_000,
    () => JSON.stringify(h.sandbox.webhookDeliveries.slice(-5).map((d) => [d.action, d.fault, d.statuses])),
  );
}

const statusesOf = (s: Seeded) =>
  h.sandbox.webhookDeliveries
    .filter((d) => d.repo === `${OWNER}/${s.repoName}`)
    .map((d) => [d.action, d.statuses, ...d.errors]);
/** GitHub's timestamps have whole seconds: actions a second apart (on the sandbox's clock) can be ordered. */
const nextSecond = () => h.sandbox.clock.advance(1_000);

beforeAll(async () => {
  h = await startOpenPrHarness();
  await writeFile(path.join(h.root, 'secrets', 'wh_acme'), `${SECRET}\n`);
}, 120_000);
afterAll(async () => h?.close(), 60_000);

describe('webhooks keep the proposal in step with its PR', () => {
  test('merging the PR makes the proposal pr_merged; the change is on the base branch', async () => {
    const o = await openedProposal();
    const merged = await github('PUT', `${o.path}/merge`, { merge_method: 'merge' });
    expect(merged.status).toBe(200);
    await waitForState(o.s.proposalId, { status: 'pr_merged', pr_state: 'merged' });
    const bare = h.sandbox.bareDir(OWNER, o.s.repoName);
    expect(await git(bare, 'show', `main:${PARAMS_PATH}`)).toContain('4.5');
    await h.sandbox.webhooksSettled();
    expect(statusesOf(o.s)).toEqual([
      ['opened', [202]],
      ['closed', [200]],
    ]);
    const listed = await h.api('GET', '/proposals?status=pr_merged');
    expect(listed.body.data.map((p: { id: string }) => p.id)).toContain(o.s.proposalId);
  }, 90_000);

  test('closing and reopening the PR: closed, then open again, status still pr_opened', async () => {
    const o = await openedProposal();
    expect((await github('PATCH', o.path, { state: 'closed' })).status).toBe(200);
    await waitForState(o.s.proposalId, { status: 'pr_opened', pr_state: 'closed' });
    nextSecond();
    expect((await github('PATCH', o.path, { state: 'open' })).status).toBe(200);
    await waitForState(o.s.proposalId, { status: 'pr_opened', pr_state: 'open' });
  }, 90_000);

  test('a close and a reopen in the same second: the reopen cannot be ordered, GitHub is asked, the proposal ends open', async () => {
    // GitHub's times have whole seconds: close and reopen back to back until both land in one.
    let o: Opened | undefined;
    for (let attempt = 0; attempt < 5 && o === undefined; attempt++) {
      const candidate = await openedProposal();
      await h.sandbox.webhooksSettled();
      const closedAt = (await github('PATCH', candidate.path, { state: 'closed' })).json.updated_at;
      const reopenedAt = (await github('PATCH', candidate.path, { state: 'open' })).json.updated_at;
      if (closedAt === reopenedAt) o = candidate;
    }
    if (o === undefined) throw new Error('no close and reopen landed in the same second in 5 tries');
    await h.sandbox.webhooksSettled();
    const deliveries = await h.db.sql.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM webhook_deliveries WHERE proposal_id = $1 AND event = 'pull_request' ORDER BY received_at`,
      [o.s.proposalId],
    );
    // Delivered in order: the close applied, the reopen of the same second deferred to a read-back.
    expect(deliveries.map((d) => `${d.action}:${d.outcome}`)).toEqual(['closed:applied', 'reopened:deferred']);
    await waitForState(o.s.proposalId, { status: 'pr_opened', pr_state: 'open' });
    // One read-back run (visibility is eventually consistent: asked until it lists it).
    const listed = async () => {
      const ids: string[] = [];
      for await (const run of h.env.client.workflow.list({
        query: `WorkflowType="reconcilePrStatesWorkflow" AND WorkflowId STARTS_WITH "reconcile-pr-${(o as Opened).s.proposalId}"`,
      }))
        ids.push(run.workflowId);
      return ids;
    };
    await waitUntil('the read-back run to be listed', async () => (await listed()).length > 0, 10_000);
    const ids = await listed();
    expect(ids).toHaveLength(1);
    expect(await h.env.client.workflow.getHandle(ids[0] as string).result()).toMatchObject({
      checked: 1,
      corrected: 1,
    });
  }, 120_000);

  test('a duplicated and a reordered delivery change nothing wrong', async () => {
    const o = await openedProposal();
    await h.sandbox.webhooksSettled();
    // close (delivered twice), reopen (held until after the next), close again.
    h.sandbox.injectWebhookFaults(OWNER, o.s.repoName, ['duplicate', 'delay_until_next']);
    await github('PATCH', o.path, { state: 'closed' });
    nextSecond();
    await github('PATCH', o.path, { state: 'open' });
    nextSecond();
    await github('PATCH', o.path, { state: 'closed' });
    await h.sandbox.webhooksSettled();
    expect(statusesOf(o.s)).toEqual([
      ['opened', [202]],
      ['closed', [200, 200]],
      ['reopened', [200]],
      ['closed', [200]],
    ]);
    expect(await proposal(o.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'closed' });
    const outcomes = await h.db.sql.query<{ action: string; outcome: string }>(
      'SELECT action, outcome FROM webhook_deliveries WHERE proposal_id = $1 ORDER BY received_at',
      [o.s.proposalId],
    );
    // The duplicate was answered from the log (one row per id); the late reopen was stale.
    expect(outcomes.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'closed:applied',
      'closed:applied',
      'reopened:stale',
    ]);
  }, 90_000);
});

describe('an organisation webhook', () => {
  test("its ping is answered 200; its deliveries for a repository no config repo names change nothing; a config repo's event it repeats is a duplicate", async () => {
    const o = await openedProposal();
    const foreign = `not-a-config-${o.s.repoName}`;
    await h.sandbox.createRepo({ owner: OWNER, repo: foreign, token: GH_TOKEN, files: { 'README.md': '# other\n' } });
    await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: foreign,
      token: GH_TOKEN,
      branch: 'feature',
      files: { 'a.txt': 'a\n' },
    });
    await h.sandbox.webhooksSettled();
    h.sandbox.configureOrgWebhook(OWNER, { url: `${h.apiUrl}/api/v1/webhooks/github`, secret: SECRET });
    try {
      const before = await h.db.sql.query('SELECT id, status, pr_state, pr_state_at FROM proposals ORDER BY id');
      h.sandbox.pingOrgWebhook(OWNER);
      const pr = await github('POST', `/repos/${OWNER}/${foreign}/pulls`, {
        head: 'feature',
        base: 'main',
        title: 'Unrelated',
      });
      expect(pr.status).toBe(201);
      expect(
        (await github('PATCH', `/repos/${OWNER}/${foreign}/pulls/${String(pr.json.number)}`, { state: 'closed' }))
          .status,
      ).toBe(200);
      await h.sandbox.webhooksSettled();
      const orgDeliveries = h.sandbox.webhookDeliveries
        .filter((d) => d.hook === `org:${OWNER}`)
        .map((d) => [d.event, d.action, d.repo, d.statuses]);
      expect(orgDeliveries).toEqual([
        ['ping', null, OWNER, [200]],
        ['pull_request', 'opened', `${OWNER}/${foreign}`, [202]],
        ['pull_request', 'closed', `${OWNER}/${foreign}`, [202]],
      ]);
      expect(await h.db.sql.query('SELECT id, status, pr_state, pr_state_at FROM proposals ORDER BY id')).toEqual(
        before,
      );

      // The config repo's own PR: its repo hook and the organisation's both deliver the close.
      expect((await github('PATCH', o.path, { state: 'closed' })).status).toBe(200);
      await h.sandbox.webhooksSettled();
      const close = h.sandbox.webhookDeliveries.filter(
        (d) => d.repo === `${OWNER}/${o.s.repoName}` && d.action === 'closed',
      );
      expect(close.map((d) => d.statuses)).toEqual([[200], [200]]);
      const outcomes = await h.db.sql.query<{ outcome: string }>(
        `SELECT outcome FROM webhook_deliveries WHERE delivery_id = ANY($1) ORDER BY received_at`,
        [close.map((d) => d.id)],
      );
      expect(outcomes.map((r) => r.outcome)).toEqual(['applied']); // the second, same body, answered as a duplicate
      expect(await proposal(o.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'closed' });
      expect(h.sandbox.validationFailures).toEqual([]);
    } finally {
      h.sandbox.configureOrgWebhook(OWNER, null);
    }
  }, 90_000);
});

describe('reconciliation fixes what a missed webhook left', () => {
  test('a dropped delivery: the repo reconciled over the API, then by the Temporal Schedule', async () => {
    const o = await openedProposal();
    const other = await openedProposal();
    await h.sandbox.webhooksSettled();
    h.sandbox.injectWebhookFaults(OWNER, o.s.repoName, ['drop']);
    h.sandbox.injectWebhookFaults(OWNER, other.s.repoName, ['drop']);
    expect((await github('PUT', `${o.path}/merge`, {})).status).toBe(200);
    expect((await github('PATCH', other.path, { state: 'closed' })).status).toBe(200);
    await h.sandbox.webhooksSettled();
    expect(await proposal(o.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });

    // An operator reconciles one repo.
    const started = await h.api('POST', `/config-repos/${o.s.configRepoId}/reconcile`);
    expect(started.status).toBe(202);
    const summary = (await h.env.client.workflow.getHandle(started.body.workflow_id).result()) as ReconcileSummary;
    expect(summary).toMatchObject({ repos: 1, checked: 1, corrected: 1, missing: 0, failedRepos: [] });
    expect(await proposal(o.s.proposalId)).toMatchObject({ status: 'pr_merged', pr_state: 'merged' });
    expect(await proposal(other.s.proposalId)).toMatchObject({ pr_state: 'open' });

    // The schedule, as a worker ensures it at start, is listed by the CLI; triggered, it
    // reconciles every repo with a PR recorded open.
    const logger = createLogger({ level: 'silent', redactor: h.redactor });
    expect(
      await ensureReconcileSchedule(
        h.env.client,
        { taskQueue: h.config.temporalTaskQueue, intervalMs: h.config.reconcileInterval },
        logger,
      ),
    ).toBe('created');
    expect(
      await ensureReconcileSchedule(
        h.env.client,
        { taskQueue: h.config.temporalTaskQueue, intervalMs: h.config.reconcileInterval },
        logger,
      ),
    ).toBe('unchanged');
    const cli = findTemporalCli(process.env);
    const { stdout } = await promisify(execFile)(cli, [
      'schedule',
      'list',
      '--address',
      h.env.address,
      '--namespace',
      TEST_NAMESPACE,
    ]);
    expect(stdout).toContain(RECONCILE_SCHEDULE_ID);
    const handle = h.env.client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    await handle.trigger();
    let runId: string | undefined;
    await waitUntil(
      'the scheduled reconciliation to run',
      async () => {
        runId = (await handle.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
        return runId !== undefined;
      },
      15_000,
    );
    const scheduled = (await h.env.client.workflow.getHandle(runId as string).result()) as ReconcileSummary;
    expect(scheduled.corrected).toBeGreaterThanOrEqual(1);
    expect(scheduled.failedRepos).toEqual([]);
    expect(await proposal(other.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'closed' });
    await handle.delete();
  }, 120_000);

  test('a dropped reopen: caught up over the API and by the Temporal Schedule; a PR closed past the window is skipped', async () => {
    const viaApi = await openedProposal();
    const viaSchedule = await openedProposal();
    const old = await openedProposal();
    for (const o of [viaApi, viaSchedule, old]) {
      expect((await github('PATCH', o.path, { state: 'closed' })).status).toBe(200);
      await waitForState(o.s.proposalId, { pr_state: 'closed' });
    }
    nextSecond();
    for (const o of [viaApi, viaSchedule, old]) {
      h.sandbox.injectWebhookFaults(OWNER, o.s.repoName, ['drop']);
      expect((await github('PATCH', o.path, { state: 'open' })).status).toBe(200);
    }
    await h.sandbox.webhooksSettled();
    // Recorded closed 31 days ago: past RELYLOOP_RECONCILE_CLOSED_WINDOW (30 days), no longer read.
    await h.db.sql.query(`UPDATE proposals SET pr_state_at = now() - interval '31 days' WHERE id = $1`, [
      old.s.proposalId,
    ]);
    for (const o of [viaApi, viaSchedule, old])
      expect(await proposal(o.s.proposalId)).toMatchObject({ pr_state: 'closed' });

    const started = await h.api('POST', `/config-repos/${viaApi.s.configRepoId}/reconcile`);
    expect(started.status).toBe(202);
    const summary = (await h.env.client.workflow.getHandle(started.body.workflow_id).result()) as ReconcileSummary;
    expect(summary).toMatchObject({
      repos: 1,
      checked: 1,
      corrected: 1,
      skipped: 0,
      failedRepos: [],
      perRepo: [{ configRepoId: viaApi.s.configRepoId, checked: 1, corrected: 1 }],
    });
    expect(await proposal(viaApi.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });

    const logger = createLogger({ level: 'silent', redactor: h.redactor });
    await ensureReconcileSchedule(
      h.env.client,
      { taskQueue: h.config.temporalTaskQueue, intervalMs: h.config.reconcileInterval },
      logger,
    );
    const handle = h.env.client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    const before = (await handle.describe()).info.recentActions.length;
    await handle.trigger();
    let runId: string | undefined;
    await waitUntil(
      'the scheduled reconciliation to run',
      async () => {
        const actions = (await handle.describe()).info.recentActions;
        runId = actions.length > before ? actions.at(-1)?.action.workflow.workflowId : undefined;
        return runId !== undefined;
      },
      15_000,
    );
    const scheduled = (await h.env.client.workflow.getHandle(runId as string).result()) as ReconcileSummary;
    expect(await proposal(viaSchedule.s.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });
    // The old PR's repo has nothing else to read, so the schedule does not take it; asked for it
    // alone, the run reads nothing and counts the skip. The proposal stays closed (documented).
    expect(scheduled.perRepo.map((r) => r.configRepoId)).not.toContain(old.s.configRepoId);
    expect(scheduled.perRepo.find((r) => r.configRepoId === viaSchedule.s.configRepoId)).toMatchObject({
      checked: 1,
      corrected: 1,
    });
    expect(await proposal(old.s.proposalId)).toMatchObject({ pr_state: 'closed' });
    const alone = await h.api('POST', `/config-repos/${old.s.configRepoId}/reconcile`);
    const aloneSummary = (await h.env.client.workflow.getHandle(alone.body.workflow_id).result()) as ReconcileSummary;
    expect(aloneSummary).toMatchObject({
      checked: 0,
      skipped: 1,
      perRepo: [{ configRepoId: old.s.configRepoId, checked: 0, skipped: 1 }],
    });
    await handle.delete();
  }, 150_000);

  test('no webhook secret or token in anything the service logged', () => {
    const all = h.logs.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(GH_TOKEN);
    expect(all).toContain('webhook delivery handled');
  });
});

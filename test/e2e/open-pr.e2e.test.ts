// openPrWorkflow through the whole stack (docs/api.md "open_pr", docs/architecture.md "The open-PR
// workflow"): HTTP API → Temporal dev server → workers with the production activities → GitHub
// sandbox (real git over HTTP, REST checked against GitHub's OpenAPI description) and PostgreSQL.
// Assertions are on what a user sees: the branch's files, the PR, its comment, the proposal row,
// the run's history.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createApp } from '../../api/app.js';
import { lockStateQuery, repoLockWorkflowId } from '../../domain/lock-contracts.js';
import {
  OPEN_PR_STEP_TABLE,
  OPEN_PR_STEPS,
  progressQuery,
  stepSummary,
  type OpenPrProgress,
  type OpenPrStep,
} from '../../domain/open-pr-contracts.js';
import { createLogger } from '../../runtime/logger.js';
import { createTemporalHandle, type TemporalHandle } from '../../adapters/temporal-client.js';
import { pushBranch } from '../../sandbox/branches.js';
import { freePort } from '../../sandbox/ports.js';
import { tryRevParse } from '../support/git-cli.js';
import { OPEN_PR_MESSAGE } from '../../api/routes/open-pr.js';
import { git, gitBlob } from '../support/git-cli.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { PARAMS_PATH, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { saveHistory } from '../support/history-fixtures.js';
import { waitUntil } from '../support/wait.js';
import { leakFormsOf, scanGitDir, scanHistory, scanTexts } from '../support/leak-scan.js';
import { base64Forms } from '../../domain/redact.js';

const FAIL_CHART_KEY = 'force.chart.failure';

describe('open_pr end to end', () => {
  let h: OpenPrHarness;
  beforeAll(async () => {
    h = await startOpenPrHarness({
      activityOverrides: {
        // Test seam for docs/architecture.md "The open-PR workflow" step 9: a study whose
        // importance names this key gets a failing renderer.
        renderChart: async (importance) =>
          FAIL_CHART_KEY in importance
            ? { ok: false, reason: 'renderer failed (forced by test)' }
            : (await import('../../activities/chart/render-chart.js')).tryRenderChart(importance),
      },
    });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  const post = (s: Seeded) => h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  const resultOf = (workflowId: string) => h.env.client.workflow.getHandle(workflowId).result();
  const bare = (s: Seeded) => h.sandbox.bareDir(OWNER, s.repoName);
  const row = (s: Seeded) => h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } });
  const lockHolder = async (s: Seeded) => {
    try {
      return (await h.env.client.workflow.getHandle(repoLockWorkflowId(s.configRepoId)).query(lockStateQuery)).holder;
    } catch {
      return null; // the lock workflow finished: nobody holds it
    }
  };

  const progressOf = (workflowId: string): Promise<OpenPrProgress> =>
    h.env.client.workflow.getHandle(workflowId).query(progressQuery);
  const atStep = (workflowId: string, step: OpenPrStep) =>
    waitUntil(`${workflowId} at ${step}`, async () => (await progressOf(workflowId)).currentStep === step);
  const stepTimes = (p: OpenPrProgress, step: OpenPrStep) =>
    p.steps.find((x) => x.step === step) ?? { startedAt: NaN, endedAt: NaN };
  const runsOf = async (proposalId: string) => {
    const ids: string[] = [];
    for await (const w of h.env.client.workflow.list({ query: `ProposalId = '${proposalId}'` })) ids.push(w.workflowId);
    return ids;
  };
  /** Holds the next PR creation on this repo until released, so a test can act while a run is at step 12. */
  const holdPrCreation = (s: Seeded) =>
    h.sandbox.holdNext({ method: 'POST', path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`), when: 'before' });

  describe('a study-backed proposal, opened once', () => {
    let s: Seeded;
    let res: { status: number; body: { workflow_id: string; run_id: string } & Record<string, unknown> };
    let result: Awaited<ReturnType<typeof resultOf>>;
    let branch: string;
    beforeAll(async () => {
      s = await seedProposal(h);
      res = await post(s);
      result = await resultOf(res.body.workflow_id);
      branch = `relyloop/study-${s.studyId}`;
    }, 120_000);

    test('POST answers 202 with the workflow, and the run ends opened', () => {
      expect(res).toEqual({
        status: 202,
        body: {
          proposal_id: s.proposalId,
          status: 'pending',
          workflow_id: `open-pr:${s.proposalId}`,
          run_id: expect.any(String),
          message: OPEN_PR_MESSAGE,
        },
      });
      expect(result).toEqual({
        outcome: 'opened',
        prUrl: `${h.sandbox.origin}/${OWNER}/${s.repoName}/pull/1`,
        prNumber: 1,
        branch,
        adoptedPr: false,
      });
    });

    test('the branch changes exactly the two diffed lines and adds the 800×600 PNG', async () => {
      expect((await git(bare(s), 'diff', '--name-only', `main..${branch}`)).split('\n')).toEqual([
        `.relyloop/digest-charts/${s.studyId}.png`,
        PARAMS_PATH,
      ]);
      const diff = await git(bare(s), 'diff', '-U0', `main..${branch}`, '--', PARAMS_PATH);
      expect(diff).toContain('-  "field_boosts.title": 2.0,');
      expect(diff).toContain('+  "field_boosts.title": 4.5,');
      expect(diff).toContain('-  "bm25.k1": 1.2,');
      expect(diff).toContain('+  "bm25.k1": 1.35,');
      expect(diff.split('\n').filter((l) => /^[-+]\s/.test(l))).toHaveLength(4);
      const png = await gitBlob(bare(s), `${branch}:.relyloop/digest-charts/${s.studyId}.png`);
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([800, 600]); // IHDR width × height
    });

    test('the commit is by the configured identity and carries the proposal and study trailers', async () => {
      const message = await git(bare(s), 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', branch);
      expect(message).toContain('relyloop-bot <relyloop-bot@example.com>|relyloop-bot <relyloop-bot@example.com>|');
      expect(message).toContain(`RelyLoop-Proposal: ${s.proposalId}`);
      expect(message).toContain(`RelyLoop-Study: ${s.studyId}`);
    });

    test('one open PR with the study title and a complete body', () => {
      const [pr, ...others] = h.sandbox.pulls(OWNER, s.repoName);
      expect(others).toEqual([]);
      expect(pr).toMatchObject({ number: 1, state: 'open', head: { ref: branch }, base: { ref: 'main' } });
      expect(pr?.title).toMatch(/^RelyLoop: Boost title /);
      for (const part of [
        'Metric delta',
        'ndcg@10',
        'Config diff',
        'field_boosts.title',
        'Suggested follow-ups',
        'Try fuzziness 1 on short queries',
        `https://relyloop.example.com/studies/${s.studyId}`,
        'Opened by RelyLoop. Reject the proposal to close this PR.',
      ]) {
        expect(pr?.body).toContain(part);
      }
      expect(pr?.body).not.toMatch(/Importance/i); // the chart is committed, so no table
    });

    test('one comment shows the chart from the branch', () => {
      const comments = h.sandbox.comments(OWNER, s.repoName, 1);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain(
        `![Parameter importance](${h.sandbox.origin}/${OWNER}/${s.repoName}/raw/refs/heads/relyloop/study-${s.studyId}/.relyloop/digest-charts/${s.studyId}.png)`,
      );
    });

    test('the proposal is pr_opened with the PR, and the lock is free', async () => {
      expect(await row(s)).toMatchObject({
        status: 'pr_opened',
        prUrl: (result as { prUrl: string }).prUrl,
        prNumber: 1,
        prBranch: branch,
        prState: 'open',
        prOpenError: null,
      });
      expect(await lockHolder(s)).toBeNull();
    });

    test('GET open_pr accounts for every step, with a Web UI link', async () => {
      const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        status: 'completed',
        workflow_id: res.body.workflow_id,
        run_id: res.body.run_id,
        failure: null,
      });
      expect(view.body.steps.map((x: { step: string; status: string }) => [x.step, x.status])).toEqual(
        OPEN_PR_STEPS.map((step) => [step, 'completed']),
      );
      expect(view.body.steps.find((x: { step: string }) => x.step === 'push').attempts).toBe(1);
      expect(view.body.web_ui_url).toBe(
        `http://localhost:8233/namespaces/relyloop/workflows/${encodeURIComponent(res.body.workflow_id)}/${res.body.run_id}/history`,
      );
    });

    test('an operator finds the run by search attribute and sees a summary on the run and on every step', async () => {
      const found = [];
      for await (const w of h.env.client.workflow.list({ query: `ProposalId = '${s.proposalId}'` }))
        found.push(w.workflowId);
      expect(found).toEqual([res.body.workflow_id]);
      const handle = h.env.client.workflow.getHandle(res.body.workflow_id);
      const description = await handle.describe();
      expect(await description.staticSummary()).toBe(`Open PR for proposal ${s.proposalId} on ${s.repoName}`);
      expect(description.searchAttributes).toMatchObject({
        ProposalId: [s.proposalId],
        ConfigRepoId: [s.configRepoId],
        ClusterId: [s.clusterId],
        OpenPrStep: ['release'],
      });
      const scheduledEvents = ((await handle.fetchHistory()).events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes,
      );
      const summaries = scheduledEvents.map(
        (e) => JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? []).toString() || 'null') as string | null,
      );
      // One per step that is an activity, numbered and labelled from the table, in table order but
      // for two: the chart renders while the sync fetches, and the branch check needs no activity
      // of its own when the refs the sync's fetch began with do not hold the branch.
      const scheduled: OpenPrStep[] = OPEN_PR_STEP_TABLE.filter(
        (row) => row.activity !== null && row.step !== 'branch_check' && row.step !== 'render_chart',
      ).map((row) => row.step);
      scheduled.splice(scheduled.indexOf('sync') + 1, 0, 'render_chart');
      expect(summaries.map((x) => x?.split(':')[0])).toEqual(scheduled.map((step) => stepSummary(step)));
      expect(summaries).toContain(stepSummary('open_pr', `${branch} → main`));
      // The claim (a queue name, no side effect) is asked for beside the recheck: one workflow task.
      const scheduledBy = (step: OpenPrStep) =>
        String(
          scheduledEvents[summaries.findIndex((x) => x?.startsWith(stepSummary(step)))]
            ?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId,
        );
      expect(scheduledBy('claim')).toBe(scheduledBy('recheck'));
      const progress = await handle.query(progressQuery);
      expect(progress.steps.find((x) => x.step === 'branch_check')).toMatchObject({
        status: 'completed',
        note: 'branch is free (not among the refs the sync saw)',
      });
    });

    test('the token is nowhere: history, cache, requests, logs, the row; every request body is valid', async () => {
      // Each scan must have looked at something.
      const history = await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory();
      await saveHistory('open-pr-study-backed', history);
      const forms = leakFormsOf(GH_TOKEN, base64Forms);
      const scans = {
        history: scanHistory(history, forms),
        cache: await scanGitDir(path.join(h.config.repoCacheDir, s.configRepoId), forms),
        texts: scanTexts(
          {
            requests: h.sandbox.requests.map((r) => r.body).join('\n'),
            logs: h.logs.join('\n'),
            row: JSON.stringify(await row(s)),
          },
          forms,
        ),
      };
      for (const [where, scan] of Object.entries(scans))
        expect({ where, hits: scan.hits, looked: scan.looked > 0 }).toEqual({ where, hits: [], looked: true });
      expect(h.sandbox.validationFailures).toEqual([]);
    });
  });

  test('a manual proposal: a proposal branch, no PNG, no comment, the manual body', async () => {
    const s = await seedProposal(h, { study: false });
    const res = await post(s);
    expect(res.status).toBe(202);
    const result = await resultOf(res.body.workflow_id);
    const branch = `relyloop/proposal-${s.proposalId}`;
    expect(result).toMatchObject({ outcome: 'opened', branch });
    expect(await git(bare(s), 'diff', '--name-only', `main..${branch}`)).toBe(PARAMS_PATH);
    const [pr] = h.sandbox.pulls(OWNER, s.repoName);
    expect(pr?.title).toBe(`RelyLoop manual proposal ${s.proposalId.slice(0, 8)}`);
    expect(pr?.body).toContain('(manual)');
    expect(pr?.body).not.toContain('Metric delta');
    expect(h.sandbox.comments(OWNER, s.repoName, pr?.number ?? 0)).toEqual([]);
    expect(await row(s)).toMatchObject({ status: 'pr_opened', prBranch: branch, prState: 'open' });
    await saveHistory('open-pr-manual', await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory());

    // 7. Already pr_opened: 409, nothing started.
    const again = await post(s);
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatchObject({ error_code: 'INVALID_STATE_TRANSITION', retryable: false });
    expect(await runsOf(s.proposalId)).toEqual([res.body.workflow_id]);
  }, 120_000);

  test('an undeclared key fails with PARAM_NOT_IN_TEMPLATE naming it; after PATCH /templates fixes it a new POST succeeds', async () => {
    const s = await seedProposal(h, {
      declaredParams: ['field_boosts.title'],
      diff: { 'field_boosts.title': { from: 2.0, to: 3.0 }, 'bm25.k1': { from: 1.2, to: 1.4 } },
    });
    const first = await post(s);
    const error = await resultOf(first.body.workflow_id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // The run's failure leads with the code; the step's failure is its cause.
    const runFailure = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(runFailure).toBeInstanceOf(ApplicationFailure);
    expect(runFailure.type).toBe('PARAM_NOT_IN_TEMPLATE');
    expect(runFailure.message).toMatch(/^PARAM_NOT_IN_TEMPLATE: .*bm25\.k1/);
    const activityFailure = runFailure.cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure?.cause).toBeInstanceOf(ApplicationFailure);
    expect((activityFailure?.cause as ApplicationFailure).type).toBe('PARAM_NOT_IN_TEMPLATE');
    expect((activityFailure?.cause as ApplicationFailure).message).toContain('bm25.k1');
    const failed = await row(s);
    expect(failed.status).toBe('pending');
    expect(failed.prOpenError).toMatch(/^PARAM_NOT_IN_TEMPLATE: .*bm25\.k1/);
    expect(await lockHolder(s)).toBeNull();
    expect(await git(bare(s), 'branch', '--list', 'relyloop/*')).toBe('');
    await saveHistory(
      'open-pr-param-not-in-template',
      await h.env.client.workflow.getHandle(first.body.workflow_id).fetchHistory(),
    );

    // The operator fixes the template through the API, as docs/operations.md says; the change is audited.
    const fixed = await h.api('PATCH', `/templates/${s.templateId}`, {
      declared_params: ['field_boosts.title', 'bm25.k1'],
    });
    expect(fixed).toMatchObject({ status: 200, body: { declared_params: ['field_boosts.title', 'bm25.k1'] } });
    const audit = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.audit === 'template_updated' && l.template_id === s.templateId);
    expect(audit).toMatchObject({ declared_params: { added: ['bm25.k1'], removed: [] } });
    const second = await post(s);
    expect(second.status).toBe(202);
    expect(second.body.workflow_id).toMatch(new RegExp(`^open-pr:${s.proposalId}:retry-[0-9a-f]{8}$`));
    expect(await resultOf(second.body.workflow_id)).toMatchObject({ outcome: 'opened' });
    expect(await row(s)).toMatchObject({ status: 'pr_opened', prOpenError: null });
  }, 120_000);

  test('a missing or empty token file is 503 GITHUB_NOT_CONFIGURED and starts nothing', async () => {
    await writeFile(path.join(h.config.secretsDir, 'gh_soon_gone'), `${GH_TOKEN}\n`);
    const missing = await seedProposal(h, { authRef: 'gh_soon_gone' });
    await rm(path.join(h.config.secretsDir, 'gh_soon_gone'));
    const empty = await seedProposal(h, { authRef: 'gh_empty' });
    for (const s of [missing, empty]) {
      const res = await post(s);
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatchObject({ error_code: 'GITHUB_NOT_CONFIGURED', retryable: true });
      expect(await runsOf(s.proposalId)).toEqual([]);
      expect(await row(s)).toMatchObject({ status: 'pending', prOpenError: null });
    }
  }, 60_000);

  test('a foreign branch already on the remote fails with BRANCH_EXISTS and is left untouched', async () => {
    const s = await seedProposal(h);
    const branch = `relyloop/study-${s.studyId}`;
    const foreign = await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: s.repoName,
      token: GH_TOKEN,
      branch,
      files: { 'someone-else.txt': 'hi\n' },
    });
    const res = await post(s);
    const error = await resultOf(res.body.workflow_id).catch((e: unknown) => e);
    expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe('BRANCH_EXISTS');
    expect((((error as WorkflowFailedError).cause?.cause as ActivityFailure).cause as ApplicationFailure).type).toBe(
      'BRANCH_EXISTS',
    );
    expect(await tryRevParse(bare(s), `refs/heads/${branch}`)).toBe(foreign);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toEqual([]);
    expect((await row(s)).prOpenError).toMatch(/^BRANCH_EXISTS: /);
    await saveHistory(
      'open-pr-branch-exists',
      await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(),
    );
  }, 60_000);

  test('two proposals on one repo run strictly one after the other, each branched from the base', async () => {
    const a = await seedProposal(h);
    const b = await seedProposal(h, { reuse: a, diff: { fuzziness: { from: 'AUTO', to: '1' } } });
    const [ra, rb] = await Promise.all([post(a), post(b)]);
    const [resA, resB] = await Promise.all([resultOf(ra.body.workflow_id), resultOf(rb.body.workflow_id)]);
    expect([resA.outcome, resB.outcome]).toEqual(['opened', 'opened']);
    const [pa, pb] = await Promise.all([progressOf(ra.body.workflow_id), progressOf(rb.body.workflow_id)]);
    const [first, second] = stepTimes(pa, 'lock').endedAt! <= stepTimes(pb, 'lock').endedAt! ? [pa, pb] : [pb, pa];
    // The second got the lock only after the first had opened its PR and marked the proposal.
    expect(stepTimes(second, 'lock').endedAt).toBeGreaterThanOrEqual(stepTimes(first, 'mark_opened').endedAt!);
    const base = await git(bare(a), 'rev-parse', 'main');
    for (const r of [resA, resB]) {
      if (r.outcome !== 'opened') throw new Error('not opened');
      expect(await git(bare(a), 'rev-parse', `${r.branch}^`)).toBe(base);
    }
    expect(h.sandbox.pulls(OWNER, a.repoName).map((p) => p.state)).toEqual(['open', 'open']);
    await saveHistory('open-pr-serialized', await h.env.client.workflow.getHandle(rb.body.workflow_id).fetchHistory());
  }, 120_000);

  test('rejected while waiting for the lock: no branch, no PR, the rejection kept', async () => {
    const a = await seedProposal(h);
    const b = await seedProposal(h, { reuse: a });
    const held = holdPrCreation(a);
    const ra = await post(a);
    await held.reached;
    const rb = await post(b);
    await atStep(rb.body.workflow_id, 'lock');
    expect((await h.api('POST', `/proposals/${b.proposalId}/reject`, { reason: 'not now' })).status).toBe(200);
    held.release();
    expect(await resultOf(rb.body.workflow_id)).toEqual({ outcome: 'not_pending', status: 'no longer pending' });
    expect(await resultOf(ra.body.workflow_id)).toMatchObject({ outcome: 'opened' });
    expect(await tryRevParse(bare(a), `refs/heads/relyloop/study-${b.studyId}`)).toBeUndefined();
    expect(h.sandbox.pulls(OWNER, a.repoName).map((p) => p.head.ref)).toEqual([`relyloop/study-${a.studyId}`]);
    expect(await row(b)).toMatchObject({
      status: 'rejected',
      rejectedReason: 'not now',
      prUrl: null,
      prOpenError: null,
    });
  }, 120_000);

  test('rejected before step 14: the PR it opened is closed, its branch deleted, the rejection kept', async () => {
    const s = await seedProposal(h);
    const held = holdPrCreation(s);
    const res = await post(s);
    await held.reached;
    expect((await h.api('POST', `/proposals/${s.proposalId}/reject`, { reason: 'changed my mind' })).status).toBe(200);
    held.release();
    expect(await resultOf(res.body.workflow_id)).toEqual({ outcome: 'rejected_meanwhile', closedPr: 1 });
    expect(h.sandbox.pulls(OWNER, s.repoName).map((p) => p.state)).toEqual(['closed']);
    expect(await tryRevParse(bare(s), `refs/heads/relyloop/study-${s.studyId}`)).toBeUndefined();
    expect(await row(s)).toMatchObject({
      status: 'rejected',
      rejectedReason: 'changed my mind',
      prUrl: null,
      prNumber: null,
      prOpenError: null,
    });
    expect(await lockHolder(s)).toBeNull();
    await saveHistory(
      'open-pr-rejected-meanwhile',
      await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(),
    );
  }, 120_000);

  test('a failed chart render still opens the PR, with the importance table in the body', async () => {
    const s = await seedProposal(h, { importance: { 'field_boosts.title': 0.7, [FAIL_CHART_KEY]: 0.3 } });
    const res = await post(s);
    expect(await resultOf(res.body.workflow_id)).toMatchObject({ outcome: 'opened' });
    const [pr] = h.sandbox.pulls(OWNER, s.repoName);
    expect(pr?.body).toMatch(/Importance/i);
    expect(pr?.body).toContain('0.7');
    expect(await git(bare(s), 'diff', '--name-only', `main..relyloop/study-${s.studyId}`)).toBe(PARAMS_PATH);
    expect(h.sandbox.comments(OWNER, s.repoName, pr?.number ?? 0)).toEqual([]);
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body.steps.find((x: { step: string }) => x.step === 'render_chart').note).toContain(
      'renderer failed (forced by test)',
    );
    await saveHistory(
      'open-pr-chart-failed',
      await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(),
    );
  }, 60_000);

  test('ten concurrent POSTs get identical 202 bodies and start one workflow execution', async () => {
    const s = await seedProposal(h);
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(s)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    await resultOf(responses[0]!.body.workflow_id);
    expect(await runsOf(s.proposalId)).toHaveLength(1);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
  }, 60_000);

  /** POSTs open_pr through an API that talks to `temporal` instead of the harness's; closes both after. */
  async function postThrough(
    temporal: TemporalHandle,
    s: Seeded,
    logLines?: string[],
  ): Promise<{ status: number; detail: Record<string, unknown> }> {
    const logger = createLogger(
      logLines === undefined
        ? { level: 'silent', redactor: h.redactor }
        : {
            level: 'error',
            redactor: h.redactor,
            destination: {
              write: (line: string) => {
                logLines.push(line);
              },
            },
          },
    );
    const app = createApp({ config: h.config, db: h.db, temporal, logger, apiToken: h.apiToken, redactor: h.redactor });
    const server = await new Promise<Server>((resolve) => {
      const x = app.listen(0, '127.0.0.1', () => resolve(x));
    });
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/proposals/${s.proposalId}/open_pr`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.apiToken}` },
      });
      return { status: res.status, detail: ((await res.json()) as { detail: Record<string, unknown> }).detail };
    } finally {
      server.close();
      await temporal.close().catch(() => undefined);
    }
  }

  test('Temporal unreachable: 503 QUEUE_UNAVAILABLE, the proposal unchanged', async () => {
    const s = await seedProposal(h);
    const res = await postThrough(createTemporalHandle(`127.0.0.1:${await freePort()}`, 'relyloop'), s);
    expect(res.status).toBe(503);
    expect(res.detail).toMatchObject({ error_code: 'QUEUE_UNAVAILABLE', retryable: true });
    expect(await row(s)).toMatchObject({ status: 'pending', prOpenError: null });
    expect(await runsOf(s.proposalId)).toEqual([]);
  }, 60_000);

  test('a Temporal that answers with a fault to fix (a missing namespace) is a 500 with a request id, not a 503', async () => {
    const s = await seedProposal(h);
    const lines: string[] = [];
    const res = await postThrough(createTemporalHandle(h.env.address, 'no-such-namespace'), s, lines);
    expect(res.status).toBe(500);
    expect(res.detail).toMatchObject({ error_code: 'INTERNAL_ERROR', request_id: expect.any(String) });
    expect(lines.some((l) => l.includes(String(res.detail.request_id)) && /no-such-namespace|not found/i.test(l))).toBe(
      true,
    );
    expect(await row(s)).toMatchObject({ status: 'pending', prOpenError: null });
    expect(await runsOf(s.proposalId)).toEqual([]);
  }, 60_000);

  test("a cancelled run stops its running step, then releases the lock; it records no error and the view keeps the step's attempts", async () => {
    const s = await seedProposal(h);
    const held = holdPrCreation(s);
    const res = await post(s);
    await held.reached;
    await h.env.client.workflow.getHandle(res.body.workflow_id).cancel();
    await expect(resultOf(res.body.workflow_id)).rejects.toThrow(WorkflowFailedError);
    held.release();
    await waitUntil('lock released', async () => (await lockHolder(s)) === null);
    expect(await row(s)).toMatchObject({ status: 'pending', prOpenError: null });

    // The in-flight step was stopped before the lock went back: no side effect overlaps the next holder.
    const events = (await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory()).events ?? [];
    const cancelledAt = events.findIndex((e) => e.activityTaskCanceledEventAttributes);
    const releasedAt = events.findIndex(
      (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'releaseLock',
    );
    expect(cancelledAt).toBeGreaterThan(0);
    expect(releasedAt).toBeGreaterThan(cancelledAt);

    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body.status).toBe('cancelled');
    expect(view.body.steps.find((x: { step: string }) => x.step === 'open_pr')).toMatchObject({
      status: 'cancelled',
      attempts: 1,
    });
    expect(view.body.steps.find((x: { step: string }) => x.step === 'push')).toMatchObject({
      status: 'completed',
      attempts: 1,
    });
  }, 60_000);

  test('a run cancelled while a step waits to retry: the view shows the step cancelled with its failed attempts', async () => {
    const s = await seedProposal(h);
    // Enough server errors that the step fails its first attempts and waits between them.
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: Array.from({ length: 40 }, () => ({ status: 502, body: { message: 'Server Error' } })),
    });
    const res = await post(s);
    const failedAttempts = async () =>
      (await progressOf(res.body.workflow_id)).steps.find((x) => x.step === 'open_pr')?.failedAttempts ?? 0;
    await waitUntil('open_pr failed twice', async () => (await failedAttempts()) >= 2, 60_000);
    await h.env.client.workflow.getHandle(res.body.workflow_id).cancel();
    await expect(resultOf(res.body.workflow_id)).rejects.toThrow(WorkflowFailedError);
    h.sandbox.clearFaults();
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body.status).toBe('cancelled');
    const step = view.body.steps.find((x: { step: string }) => x.step === 'open_pr');
    expect(step.status).toBe('cancelled');
    // The failed attempts, plus the one in flight if the cancel caught one running.
    const failed = await failedAttempts();
    expect(failed).toBeGreaterThanOrEqual(2);
    expect([failed, failed + 1]).toContain(step.attempts);
    expect(step.last_failure).toMatch(/502|Server Error/);
    await waitUntil('lock released', async () => (await lockHolder(s)) === null);
    expect(await row(s)).toMatchObject({ status: 'pending', prOpenError: null });
  }, 90_000);

  test('GitHub 502, 429 and a secondary rate limit during PR creation are retried: exactly one PR', async () => {
    const s = await seedProposal(h);
    // A 502 from the git server on the first clone: the sync step's retry clones again.
    h.sandbox.injectFaults({
      method: 'GET',
      path: new RegExp(`/${OWNER}/${s.repoName}\\.git/info/refs$`),
      faults: [{ status: 502, body: { message: 'Bad Gateway' } }],
    });
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: [
        { status: 502, body: { message: 'Server Error' } },
        { status: 429, headers: { 'retry-after': '1' }, body: { message: 'Too Many Requests' } },
        {
          status: 403,
          headers: { 'retry-after': '1' },
          body: {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          },
        },
      ],
    });
    const res = await post(s);
    expect(await resultOf(res.body.workflow_id)).toMatchObject({ outcome: 'opened', prNumber: 1 });
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
    const prPosts = h.sandbox.requests.filter(
      (r) => r.method === 'POST' && r.path === `/api/v3/repos/${OWNER}/${s.repoName}/pulls`,
    );
    expect(prPosts.map((r) => r.status)).toEqual([502, 429, 403, 201]);
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    // Each failure is one attempt of its step (docs/operations.md "Who retries what").
    expect(view.body.steps.find((x: { step: string }) => x.step === 'sync').attempts).toBe(2);
    expect(view.body.steps.find((x: { step: string }) => x.step === 'open_pr').attempts).toBe(4);
    const refs = h.sandbox.requests.filter((r) => r.path === `/${OWNER}/${s.repoName}.git/info/refs`);
    // The retry's first request carries the credentials: no 401 challenge before it.
    expect(refs.slice(0, 2).map((r) => r.status)).toEqual([502, 200]);
  }, 90_000);

  test.each([
    // The clone's pack request: the first info/refs goes without credentials (git's 401 dance).
    [
      'the git server (a Basic header value in its 403 reason)',
      (s: Seeded) => ({ method: 'POST', path: new RegExp(`^/${OWNER}/${s.repoName}\\.git/git-upload-pack$`) }),
      'GITHUB_AUTH_FAILED',
    ],
    [
      'the REST API (a base64 credential in a 422 message)',
      (s: Seeded) => ({ method: 'POST', path: new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/pulls$`) }),
      'GITHUB_API_FAILED',
    ],
  ])(
    '%s echoes the credential base64-encoded: it is redacted on every surface',
    async (_name, where, code) => {
      const s = await seedProposal(h);
      const status = code === 'GITHUB_AUTH_FAILED' ? 403 : 422;
      h.sandbox.injectFaults({ ...where(s), faults: [{ status, echoCredential: true }] });
      const res = await post(s);
      const error = await resultOf(res.body.workflow_id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(h.sandbox.requests.some((r) => r.status === status && where(s).path.test(r.path))).toBe(true);
      const stored = (await row(s)).prOpenError ?? '';
      expect(stored).toMatch(new RegExp(`^${code}: .*\\[REDACTED-GH-TOKEN\\]`));
      const forms = leakFormsOf(GH_TOKEN, base64Forms);
      const texts = scanTexts(
        {
          pr_open_error: stored,
          'GET /proposals/{id}': JSON.stringify((await h.api('GET', `/proposals/${s.proposalId}`)).body),
          'GET /proposals/{id}/open_pr': JSON.stringify(
            (await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body,
          ),
          logs: h.logs.join('\n'),
        },
        forms,
      );
      const history = scanHistory(await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(), forms);
      expect({ texts: texts.hits, history: history.hits }).toEqual({ texts: [], history: [] });
      expect([texts.looked, history.looked > 0]).toEqual([4, true]);
    },
    90_000,
  );
});

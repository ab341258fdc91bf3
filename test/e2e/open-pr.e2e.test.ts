// openPrWorkflow through the whole stack (SPEC §4 open_pr routes, §5): HTTP API → Temporal dev
// server → workers with the production activities → GitHub sandbox (real git over HTTP, REST
// checked against GitHub's OpenAPI description) and PostgreSQL. Assertions are on what a user
// sees: the branch's files, the PR, its comment, the proposal row, the run's history.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { lockStateQuery, repoLockWorkflowId } from '../../domain/lock-contracts.js';
import { OPEN_PR_MESSAGE } from '../../api/routes/open-pr.js';
import { git, gitBlob } from '../support/git-cli.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { PARAMS_PATH, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { saveHistory } from '../support/history-fixtures.js';

const FAIL_CHART_KEY = 'force.chart.failure';

describe('open_pr end to end', () => {
  let h: OpenPrHarness;
  beforeAll(async () => {
    h = await startOpenPrHarness({
      activityOverrides: {
        // Test seam for SPEC §5 step 9: a study whose importance names this key gets a failing renderer.
        renderChart: async (importance) => (FAIL_CHART_KEY in importance ? { ok: false, reason: 'renderer failed (forced by test)' } : (await import('../../activities/chart/render-chart.js')).tryRenderChart(importance)),
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

  async function filesUnder(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
    return out;
  }

  test('1. study-backed: branch holds exactly the params change and the PNG, PR and comment are complete, row is pr_opened, lock is free', async () => {
    const s = await seedProposal(h);
    const t0 = Date.now();
    const res = await post(s);
    expect(res).toEqual({ status: 202, body: { proposal_id: s.proposalId, status: 'pending', workflow_id: `open-pr:${s.proposalId}`, run_id: expect.any(String), message: OPEN_PR_MESSAGE } });
    const result = await resultOf(res.body.workflow_id);
    const latencyMs = Date.now() - t0;
    process.stdout.write(`[measure] open_pr POST → pr_opened: ${latencyMs} ms\n`);
    const branch = `relyloop/study-${s.studyId}`;
    expect(result).toEqual({ outcome: 'opened', prUrl: `${h.sandbox.origin}/${OWNER}/${s.repoName}/pull/1`, prNumber: 1, branch, adoptedPr: false });

    // The branch: exactly two files changed, only the two diffed lines in the params file.
    expect((await git(bare(s), 'diff', '--name-only', `main..${branch}`)).split('\n')).toEqual([`.relyloop/digest-charts/${s.studyId}.png`, PARAMS_PATH]);
    const diff = await git(bare(s), 'diff', '-U0', `main..${branch}`, '--', PARAMS_PATH);
    expect(diff).toContain('-  "field_boosts.title": 2.0,');
    expect(diff).toContain('+  "field_boosts.title": 4.5,');
    expect(diff).toContain('-  "bm25.k1": 1.2,');
    expect(diff).toContain('+  "bm25.k1": 1.35,');
    expect(diff.split('\n').filter((l) => /^[-+]\s/.test(l))).toHaveLength(4);
    const png = await gitBlob(bare(s), `${branch}:.relyloop/digest-charts/${s.studyId}.png`);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([800, 600]); // IHDR width × height
    const message = await git(bare(s), 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', branch);
    expect(message).toContain('relyloop-bot <relyloop-bot@example.com>|relyloop-bot <relyloop-bot@example.com>|');
    expect(message).toContain(`RelyLoop-Proposal: ${s.proposalId}`);
    expect(message).toContain(`RelyLoop-Study: ${s.studyId}`);

    // The PR and its one chart comment.
    const [pr, ...others] = h.sandbox.pulls(OWNER, s.repoName);
    expect(others).toEqual([]);
    expect(pr).toMatchObject({ number: 1, state: 'open', head: { ref: branch }, base: { ref: 'main' } });
    expect(pr?.title).toMatch(/^RelyLoop: Boost title /);
    for (const part of ['Metric delta', 'ndcg@10', 'Config diff', 'field_boosts.title', 'Suggested follow-ups', 'Try fuzziness 1 on short queries',
      `https://relyloop.example.com/studies/${s.studyId}`, 'Opened by RelyLoop. Reject the proposal to close this PR.']) {
      expect(pr?.body).toContain(part);
    }
    expect(pr?.body).not.toMatch(/Importance/i);
    const comments = h.sandbox.comments(OWNER, s.repoName, 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain(`![Parameter importance](${h.sandbox.origin}/${OWNER}/${s.repoName}/raw/refs/heads/relyloop/study-${s.studyId}/.relyloop/digest-charts/${s.studyId}.png)`);

    expect(await row(s)).toMatchObject({ status: 'pr_opened', prUrl: result.prUrl, prNumber: 1, prBranch: branch, prState: 'open', prOpenError: null });
    expect(await lockHolder(s)).toBeNull();

    // GET open_pr: every step accounted for, with a Web UI link.
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: 'completed', workflow_id: res.body.workflow_id, run_id: res.body.run_id, failure: null });
    expect(view.body.steps.map((x: { status: string }) => x.status)).toEqual(Array(15).fill('completed'));
    expect(view.body.steps.find((x: { step: string }) => x.step === 'push').attempts).toBe(1);
    expect(view.body.web_ui_url).toBe(`http://localhost:8233/namespaces/relyloop/workflows/${encodeURIComponent(res.body.workflow_id)}/${res.body.run_id}/history`);

    // Found by search attribute, as an operator would with `temporal workflow list --query`.
    const found = [];
    for await (const w of h.env.client.workflow.list({ query: `ProposalId = '${s.proposalId}'` })) found.push(w.workflowId);
    expect(found).toEqual([res.body.workflow_id]);

    // The token is nowhere: sandbox request bodies, logs, cache files, history, the row.
    const history = await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory();
    await saveHistory('open-pr-study-backed', history);
    expect(JSON.stringify(history)).not.toContain(GH_TOKEN);
    expect(h.sandbox.requests.map((r) => r.body).join('\n')).not.toContain(GH_TOKEN);
    expect(h.logs.join('\n')).not.toContain(GH_TOKEN);
    expect(JSON.stringify(await row(s))).not.toContain(GH_TOKEN);
    for (const file of await filesUnder(h.config.repoCacheDir)) expect((await readFile(file)).includes(GH_TOKEN)).toBe(false);
    expect(h.sandbox.validationFailures).toEqual([]);
  }, 120_000);

  test('2. manual: proposal branch, no PNG, no comment, manual body', async () => {
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
  }, 120_000);

  test('4. undeclared key fails with PARAM_NOT_IN_TEMPLATE naming it; after the template is fixed a new POST succeeds', async () => {
    const s = await seedProposal(h, { declaredParams: ['field_boosts.title'], diff: { 'field_boosts.title': { from: 2.0, to: 3.0 }, 'bm25.k1': { from: 1.2, to: 1.4 } } });
    const first = await post(s);
    const error = await resultOf(first.body.workflow_id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (error as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure?.cause).toBeInstanceOf(ApplicationFailure);
    expect((activityFailure?.cause as ApplicationFailure).type).toBe('PARAM_NOT_IN_TEMPLATE');
    expect((activityFailure?.cause as ApplicationFailure).message).toContain('bm25.k1');
    const failed = await row(s);
    expect(failed.status).toBe('pending');
    expect(failed.prOpenError).toMatch(/^PARAM_NOT_IN_TEMPLATE: .*bm25\.k1/);
    expect(await lockHolder(s)).toBeNull();
    expect(await git(bare(s), 'branch', '--list', 'relyloop/*')).toBe('');
    await saveHistory('open-pr-param-not-in-template', await h.env.client.workflow.getHandle(first.body.workflow_id).fetchHistory());

    await h.db.prisma.queryTemplate.update({ where: { id: s.templateId }, data: { declaredParams: ['field_boosts.title', 'bm25.k1'] } });
    const second = await post(s);
    expect(second.status).toBe(202);
    expect(second.body.workflow_id).toMatch(new RegExp(`^open-pr:${s.proposalId}:retry-[0-9a-f]{8}$`));
    expect(await resultOf(second.body.workflow_id)).toMatchObject({ outcome: 'opened' });
    expect(await row(s)).toMatchObject({ status: 'pr_opened', prOpenError: null });
  }, 120_000);
});

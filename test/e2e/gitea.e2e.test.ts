// The open-PR workflow on a forge nobody here wrote: a real Gitea (the pinned build of
// scripts/install-gitea.sh) behind a proxy that can hold one request, worker processes as an
// operator runs them (`npm run worker`, production settings), the HTTP API, PostgreSQL and a
// Temporal dev server. Every assertion reads Gitea itself: its REST API, its webhooks, and native
// git on the repository it keeps on disk. Nothing of Gitea is imitated.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { progressQuery } from '../../domain/open-pr-contracts.js';
import { chartCommentMarker } from '../../domain/chart-comment.js';
import { git, gitBlob, tryRevParse } from '../support/git-cli.js';
import { startGitea, type GiteaJson, type GiteaServer } from '../support/gitea.js';
import { startHoldingProxy, type HoldingProxy } from '../support/holding-proxy.js';
import { startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { PARAMS_PATH, PARAMS_TEXT, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { lockHolderOf } from '../support/pr-outcome.js';
import { waitUntil } from '../support/wait.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const HOOK_SECRET = `gitea-hook-${randomUUID()}`;

describe('open_pr on a real Gitea', () => {
  let proxy: HoldingProxy;
  let gitea: GiteaServer;
  let h: OpenPrHarness;
  let current: WorkerProcess;
  const retired: WorkerProcess[] = [];

  beforeAll(async () => {
    proxy = await startHoldingProxy();
    // Gitea names itself by the proxy's URL: its links, clone URLs and webhook payloads all point
    // through it, as they would through a reverse proxy in front of a production Gitea.
    gitea = await startGitea({ rootUrl: proxy.origin });
    proxy.setTarget(gitea.origin);
    h = await startOpenPrHarness({ inProcessWorkers: false, env: { RELYLOOP_GITEA_HOSTS: `http://${proxy.host}` } });
    await writeFile(path.join(h.config.secretsDir, 'gitea_token'), `${gitea.token}\n`);
    await writeFile(path.join(h.config.secretsDir, 'gitea_hook'), `${HOOK_SECRET}\n`);
    current = spawnWorkerProcess(h.workerEnv());
    await current.ready;
  }, 180_000);

  afterAll(async () => {
    current?.kill('SIGTERM');
    await current?.exited;
    await h?.close();
    await gitea?.stop();
    await proxy?.close();
  }, 60_000);

  const user = () => gitea.user;
  /** Gitea's create-PR route for a seeded repo, as requests reach the proxy. */
  const pullsPath = (s: Seeded) => `/api/v1/repos/${user()}/${s.repoName}/pulls`;
  const branchOf = (s: Seeded) =>
    s.studyId === null ? `relyloop/proposal-${s.proposalId}` : `relyloop/study-${s.studyId}`;
  const row = (s: Seeded) => h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } });
  const resultOf = (workflowId: string) => h.env.client.workflow.getHandle(workflowId).result();
  const pullsOf = async (s: Seeded): Promise<GiteaJson[]> => {
    const res = await gitea.request('GET', `/repos/${user()}/${s.repoName}/pulls?state=all&limit=50`);
    // A PR whose branch was deleted keeps the branch name in head.label only (headBranchOf).
    return (res.body as GiteaJson[]).filter((p) => p.head.label === branchOf(s));
  };

  /** A Gitea repo with the params file, registered as a config repo with a cluster and a template. */
  async function giteaRepo(
    opts: { hook?: boolean; authRef?: string; prOptions?: Record<string, unknown> } = {},
  ): Promise<Omit<Seeded, 'studyId' | 'proposalId'>> {
    const repoName = `cfg-${randomUUID().slice(0, 8)}`;
    await gitea.createRepo(repoName);
    await gitea.putFile(repoName, PARAMS_PATH, PARAMS_TEXT);
    const repo = await h.api('POST', '/config-repos', {
      name: repoName,
      repo_url: `${proxy.origin}/${user()}/${repoName}`,
      auth_ref: opts.authRef ?? 'gitea_token',
      ...(opts.hook ? { webhook_secret_ref: 'gitea_hook' } : {}),
      // Several proposals share a repo here: their PRs stay side by side unless a test supersedes.
      pr_options: { supersede: false, ...opts.prOptions },
    });
    expect(repo).toMatchObject({ status: 201, body: { provider: 'gitea' } });
    if (opts.hook) {
      const hook = await gitea.request('POST', `/repos/${user()}/${repoName}/hooks`, {
        type: 'gitea',
        active: true,
        events: ['pull_request'],
        config: { url: `${h.apiUrl}/api/v1/webhooks/github`, content_type: 'json', secret: HOOK_SECRET },
      });
      expect(hook.status).toBe(201);
    }
    const cluster = await h.api('POST', '/clusters', { name: `prod-${repoName}` });
    expect(
      (
        await h.api('PATCH', `/clusters/${cluster.body.id}`, {
          config_repo_id: repo.body.id,
          config_path: 'clusters/prod',
        })
      ).status,
    ).toBe(200);
    const template = await h.api('POST', '/templates', {
      cluster_id: cluster.body.id,
      name: 'search',
      declared_params: ['field_boosts.title', 'field_boosts.body', 'bm25.k1', 'fuzziness'],
    });
    return { repoName, configRepoId: repo.body.id, clusterId: cluster.body.id, templateId: template.body.id };
  }

  const seed = async (opts: Parameters<typeof giteaRepo>[0] & { study?: boolean } = {}) =>
    seedProposal(h, { reuse: (await giteaRepo(opts)) as Seeded, study: opts.study ?? true });

  const openPr = async (s: Seeded) => {
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    expect(res.status).toBe(202);
    return res.body.workflow_id as string;
  };

  /** One PR, open, named by the row; the branch one commit with exactly the change (and the PNG). */
  async function expectOneGiteaPr(s: Seeded): Promise<GiteaJson> {
    const pulls = await pullsOf(s);
    expect(pulls.map((p) => p.state)).toEqual(['open']);
    const pr = pulls[0];
    expect(await row(s)).toMatchObject({
      status: 'pr_opened',
      prNumber: pr.number,
      prBranch: branchOf(s),
      prState: 'open',
      prOpenError: null,
      prUrl: `${proxy.origin}/${user()}/${s.repoName}/pulls/${pr.number}`,
    });
    const bare = gitea.bareDir(s.repoName);
    const files = s.studyId === null ? [PARAMS_PATH] : [`.relyloop/digest-charts/${s.studyId}.png`, PARAMS_PATH];
    expect((await git(bare, 'diff', '--name-only', `main..${branchOf(s)}`)).split('\n')).toEqual(files);
    expect(await git(bare, 'rev-list', '--count', `main..${branchOf(s)}`)).toBe('1');
    const changed = (await git(bare, 'diff', '-U0', `main..${branchOf(s)}`, '--', PARAMS_PATH))
      .split('\n')
      .filter((l) => /^[-+]\s/.test(l));
    expect(changed).toEqual([
      '-  "field_boosts.title": 2.0,',
      '+  "field_boosts.title": 4.5,',
      '-  "bm25.k1": 1.2,',
      '+  "bm25.k1": 1.35,',
    ]);
    if (s.studyId !== null) {
      // A real PNG reached Gitea (its signature), committed on the branch.
      const png = await gitBlob(bare, `${branchOf(s)}:.relyloop/digest-charts/${s.studyId}.png`);
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
    await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 10_000);
    return pr;
  }

  const deliveriesOf = (s: Seeded) =>
    h.db.sql.query<{ event: string; action: string; outcome: string }>(
      'SELECT event, action, outcome FROM webhook_deliveries WHERE config_repo_id = $1::uuid',
      [s.configRepoId],
    );

  const comments = async (s: Seeded, number: number): Promise<GiteaJson[]> =>
    (await gitea.request('GET', `/repos/${user()}/${s.repoName}/issues/${number}/comments`)).body as GiteaJson[];

  /** Kills the worker under test while `held` holds its request; a standby takes over. */
  async function killAt(held: { reached: Promise<void>; release(): void }): Promise<void> {
    await held.reached;
    const standby = spawnWorkerProcess(h.workerEnv());
    await standby.ready;
    current.kill('SIGKILL');
    await current.exited;
    retired.push(current);
    current = standby;
    held.release();
  }

  test('a study-backed proposal: one PR on Gitea, the branch one commit with the change and the PNG, one chart comment', async () => {
    const s = await seed();
    const workflowId = await openPr(s);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'opened' });
    const pr = await expectOneGiteaPr(s);
    expect(pr.title).toMatch(/^RelyLoop: Boost title/);
    expect(pr.body).toContain(s.proposalId);
    const posted = await comments(s, pr.number);
    expect(posted).toHaveLength(1);
    expect(posted[0].body).toContain(chartCommentMarker(s.proposalId));
    // The comment links the chart on the branch through Gitea's own raw URL.
    expect(posted[0].body).toContain(`${proxy.origin}/${user()}/${s.repoName}`);
  }, 120_000);

  test('a manual proposal with PR options: draft as the WIP prefix, an existing label applied, a missing one a warning — as its preview said, which wrote nothing', async () => {
    const base = await giteaRepo({ prOptions: { draft: true, labels: ['tuning', 'no-such-label'] } });
    expect(
      (await gitea.request('POST', `/repos/${user()}/${base.repoName}/labels`, { name: 'tuning', color: '#00aabb' }))
        .status,
    ).toBe(201);
    const s = await seedProposal(h, { reuse: base as Seeded, study: false });
    const from = proxy.requests.length;
    const preview = await h.api('GET', `/proposals/${s.proposalId}/preview`);
    const seen = proxy.requests.slice(from);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      branch: branchOf(s),
      title: expect.stringMatching(/^WIP: RelyLoop manual proposal /),
      warnings: [
        `labels not applied: no-such-label (no such label in ${user()}/${base.repoName}; Gitea applies only existing labels)`,
      ],
      would_fail: null,
    });
    expect(preview.body.diff).toContain('+  "bm25.k1": 1.35,');
    expect(seen.filter((r) => r.method !== 'GET' && !/git-upload-pack$/.test(r.path))).toEqual([]);
    expect(seen.some((r) => /git-upload-pack$/.test(r.path))).toBe(true);
    expect(await pullsOf(s)).toEqual([]);
    const workflowId = await openPr(s);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'opened' });
    const pr = await expectOneGiteaPr(s);
    expect({ title: pr.title, body: pr.body }).toEqual({ title: preview.body.title, body: preview.body.body });
    expect((pr.labels as GiteaJson[]).map((l) => l.name)).toEqual(['tuning']);
    expect(await comments(s, pr.number)).toEqual([]);
    const status = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(JSON.stringify(status.body)).toContain('no-such-label');
  }, 120_000);

  test('SIGKILL at push, after Gitea accepted the branch: the next worker adopts it, one PR', async () => {
    const s = await seed();
    const held = proxy.holdNext({
      method: 'POST',
      path: new RegExp(`^/${user()}/${s.repoName}\\.git/git-receive-pack$`),
      when: 'after',
    });
    const workflowId = await openPr(s);
    await killAt(held);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'opened' });
    await expectOneGiteaPr(s);
    expect((await h.env.client.workflow.getHandle(workflowId).query(progressQuery)).gitWorkerClaims).toBe(2);
  }, 150_000);

  test('SIGKILL at PR creation, after Gitea created it: the retry meets its 409 and adopts the PR, one PR, one comment', async () => {
    const s = await seed();
    const held = proxy.holdNext({
      method: 'POST',
      path: new RegExp(`^${pullsPath(s)}$`),
      when: 'after',
    });
    const workflowId = await openPr(s);
    await killAt(held);
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'opened' });
    const pr = await expectOneGiteaPr(s);
    expect(await comments(s, pr.number)).toHaveLength(1);
    const creates = proxy.requests.filter((r) => r.method === 'POST' && r.path === pullsPath(s));
    expect(creates.map((r) => r.status)).toEqual([201, 409]);
    const steps = (await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body.steps as {
      step: string;
      attempts: number;
    }[];
    expect(steps.find((x) => x.step === 'open_pr')?.attempts).toBe(2);
  }, 150_000);

  test('rejected while the PR is being created: the PR is closed, its branch deleted, the rejection kept', async () => {
    const s = await seed();
    const held = proxy.holdNext({
      method: 'POST',
      path: new RegExp(`^${pullsPath(s)}$`),
      when: 'after',
    });
    const workflowId = await openPr(s);
    await held.reached;
    expect((await h.api('POST', `/proposals/${s.proposalId}/reject`, { reason: 'not on Gitea' })).status).toBe(200);
    held.release();
    expect(await resultOf(workflowId)).toMatchObject({ outcome: 'rejected_meanwhile' });
    expect((await pullsOf(s)).map((p) => p.state)).toEqual(['closed']);
    expect(await tryRevParse(gitea.bareDir(s.repoName), `refs/heads/${branchOf(s)}`)).toBeUndefined();
    expect(await row(s)).toMatchObject({
      status: 'rejected',
      rejectedReason: 'not on Gitea',
      prUrl: null,
      prNumber: null,
      prOpenError: null,
    });
  }, 120_000);

  test('a branch of the same name that is not ours: BRANCH_EXISTS, the branch untouched, no PR', async () => {
    const s = await seed();
    await gitea.putFile(s.repoName, 'README.md', 'someone else\n', 'main');
    expect(
      (
        await gitea.request('POST', `/repos/${user()}/${s.repoName}/branches`, {
          new_branch_name: branchOf(s),
          old_branch_name: 'main',
        })
      ).status,
    ).toBe(201);
    const before = await tryRevParse(gitea.bareDir(s.repoName), `refs/heads/${branchOf(s)}`);
    const workflowId = await openPr(s);
    await expect(resultOf(workflowId)).rejects.toThrow();
    expect((await row(s)).prOpenError).toMatch(/^BRANCH_EXISTS: /);
    expect(await tryRevParse(gitea.bareDir(s.repoName), `refs/heads/${branchOf(s)}`)).toBe(before);
    expect(await pullsOf(s)).toEqual([]);
  }, 120_000);

  test("a merge through Gitea's API arrives as Gitea's signed webhook and moves the proposal to pr_merged", async () => {
    const s = await seed({ hook: true });
    expect(await resultOf(await openPr(s))).toMatchObject({ outcome: 'opened' });
    const pr = await expectOneGiteaPr(s);
    // A second hook signing with another secret: its deliveries are refused (401) before anything is read or recorded.
    const forged = await gitea.request('POST', `/repos/${user()}/${s.repoName}/hooks`, {
      type: 'gitea',
      active: true,
      events: ['pull_request'],
      config: { url: `${h.apiUrl}/api/v1/webhooks/github`, content_type: 'json', secret: 'not-the-repo-secret' },
    });
    expect(forged.status).toBe(201);
    // A reviewer pushes to the PR's branch: Gitea says `synchronized` (GitHub: `synchronize`); no change of state.
    await gitea.putFile(s.repoName, 'NOTES.md', 'reviewed\n', branchOf(s));
    await waitUntil(
      "the push's webhook was recorded",
      async () => (await deliveriesOf(s)).some((d) => d.action === 'synchronized'),
      30_000,
    );
    await waitUntil(
      "the forged hook's delivery was refused",
      async () => h.logs.some((l) => l.includes('"path":"/api/v1/webhooks/github"') && l.includes('"status":401')),
      30_000,
    );
    expect((await deliveriesOf(s)).filter((d) => d.action === 'synchronized')).toHaveLength(1);
    expect(await row(s)).toMatchObject({ status: 'pr_opened', prState: 'open' });
    await mergeOnGitea(s, pr.number);
    await waitUntil('the merge webhook reached the service', async () => (await row(s)).prState === 'merged', 30_000);
    expect(await row(s)).toMatchObject({ status: 'pr_merged', prState: 'merged' });
    // Gitea's `pull_request` subscription also sends the PR's comments (our chart comment, as
    // `issue_comment`): authentic, recorded, ignored. The merge is `closed` with merged: true.
    await waitUntil(
      "the comment's webhook was recorded",
      async () => (await deliveriesOf(s)).some((d) => d.event === 'issue_comment'),
      30_000,
    );
    expect(await deliveriesOf(s)).toEqual(
      expect.arrayContaining([
        { event: 'pull_request', action: 'opened', outcome: 'ignored' },
        { event: 'issue_comment', action: 'created', outcome: 'ignored' },
        { event: 'pull_request', action: 'synchronized', outcome: 'ignored' },
        { event: 'pull_request', action: 'closed', outcome: 'applied' },
      ]),
    );
  }, 120_000);

  test('a merge whose webhook was missed (and its branch deleted) is caught up by the reconciliation reading Gitea', async () => {
    const s = await seed(); // no webhook on this repo
    expect(await resultOf(await openPr(s))).toMatchObject({ outcome: 'opened' });
    const pr = await expectOneGiteaPr(s);
    await mergeOnGitea(s, pr.number);
    // Cleaned up after the merge: Gitea then answers head.ref as refs/pull/{n}/head.
    expect((await gitea.request('DELETE', `/repos/${user()}/${s.repoName}/branches/${branchOf(s)}`)).status).toBe(204);
    expect((await gitea.request('GET', `/repos/${user()}/${s.repoName}/pulls/${pr.number}`)).body.head).toMatchObject({
      ref: `refs/pull/${pr.number}/head`,
      label: branchOf(s),
    });
    expect(await row(s)).toMatchObject({ status: 'pr_opened', prState: 'open' });
    const started = await h.api('POST', `/config-repos/${s.configRepoId}/reconcile`);
    expect(started.status).toBe(202);
    expect(await resultOf(started.body.workflow_id)).toMatchObject({ corrected: 1 });
    expect(await row(s)).toMatchObject({ status: 'pr_merged', prState: 'merged' });
  }, 120_000);

  test('supersede on Gitea: the newer PR closes the older (comment, branch deleted, superseded); a merged one is left alone', async () => {
    const base = (await giteaRepo({ prOptions: { supersede: true } })) as Seeded;
    const proposalOn = (to: number) =>
      seedProposal(h, { reuse: base, study: false, diff: { 'bm25.k1': { from: 1.2, to } } });
    const [first, second, third] = [await proposalOn(1.3), await proposalOn(1.4), await proposalOn(1.5)];
    expect(await resultOf(await openPr(first))).toMatchObject({ outcome: 'opened' });
    const older = (await row(first)).prNumber as number;
    const opened = await resultOf(await openPr(second));
    const newer = (await row(second)).prNumber as number;
    expect(opened).toMatchObject({
      supersede: {
        superseded: [{ proposalId: first.proposalId, prNumber: older, branchDeleted: true }],
        leftAlone: [],
      },
    });
    const closed = (await gitea.request('GET', `/repos/${user()}/${base.repoName}/pulls/${older}`)).body;
    expect({ state: closed.state, merged: closed.merged }).toEqual({ state: 'closed', merged: false });
    const notes = (await comments(first, older)).map((c) => String(c.body));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`Superseded by #${newer} (${proxy.origin}/${user()}/${base.repoName}/pulls/${newer})`);
    expect((await gitea.request('GET', `/repos/${user()}/${base.repoName}/branches/${branchOf(first)}`)).status).toBe(
      404,
    );
    expect(await row(first)).toMatchObject({
      status: 'superseded',
      prState: 'closed',
      supersededById: second.proposalId,
    });

    // Merged before the next supersede (no webhook on this repo): Gitea refuses to close it, the
    // service reads it back, leaves it merged and records the merge.
    await mergeOnGitea(second, newer);
    expect(await resultOf(await openPr(third))).toMatchObject({
      supersede: {
        superseded: [],
        leftAlone: [{ proposalId: second.proposalId, prNumber: newer, reason: `PR #${newer} was merged` }],
      },
    });
    expect(await comments(second, newer)).toEqual([]);
    expect(await row(second)).toMatchObject({ status: 'pr_merged', prState: 'merged', supersededById: null });
  }, 150_000);

  test('a revoked token: GITHUB_AUTH_FAILED, no branch, no PR, the token in no message', async () => {
    const tokenName = `revoked-${randomUUID().slice(0, 8)}`;
    const revoked = await gitea.createToken(tokenName);
    await writeFile(path.join(h.config.secretsDir, 'gitea_revoked'), `${revoked}\n`);
    const base = await giteaRepo({ authRef: 'gitea_revoked' });
    const s = await seedProposal(h, { reuse: base as Seeded });
    await gitea.revokeToken(tokenName);
    const workflowId = await openPr(s);
    await expect(resultOf(workflowId)).rejects.toThrow();
    const stored = await row(s);
    expect(stored.prOpenError).toMatch(/^GITHUB_AUTH_FAILED: /);
    expect(stored.prOpenError).not.toContain(revoked);
    expect(await pullsOf(s)).toEqual([]);
    expect(await tryRevParse(gitea.bareDir(s.repoName), `refs/heads/${branchOf(s)}`)).toBeUndefined();
  }, 120_000);

  test('no worker process ever printed a Gitea token', () => {
    for (const w of [...retired, current]) expect(w.output()).not.toContain(gitea.token);
  });

  /** Merges through Gitea's API; right after a PR opens Gitea answers 405 until its mergeability check ran. */
  async function mergeOnGitea(s: Seeded, number: number): Promise<void> {
    await waitUntil(
      `Gitea merges PR #${number}`,
      async () => {
        const res = await gitea.request('POST', `/repos/${user()}/${s.repoName}/pulls/${number}/merge`, {
          Do: 'merge',
        });
        return res.status === 200;
      },
      30_000,
    );
  }
});

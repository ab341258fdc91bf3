// The preview, end to end: a real Temporal dev server, PostgreSQL and the GitHub sandbox. It shows
// exactly what the run then sends (title, body, chart bytes, the change on the branch), predicts
// each failure the run would hit, and writes nothing: the sandbox's request log holds reads only,
// the proposal row is unchanged, and a run of the same repo in progress is not disturbed.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pushBranch } from '../../sandbox/branches.js';
import type { RecordedRequest } from '../../sandbox/index.js';
import { git, gitBlob } from '../support/git-cli.js';
import { saveHistory } from '../support/history-fixtures.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { branchOf, PARAMS_PATH, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';

let h: OpenPrHarness;

beforeAll(async () => {
  h = await startOpenPrHarness();
}, 120_000);
afterAll(async () => h?.close(), 60_000);

interface Preview {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  body: any;
  /** What reached the sandbox for the repo during the preview. */
  requests: RecordedRequest[];
}

async function preview(s: Seeded): Promise<Preview> {
  const from = h.sandbox.requests.length;
  const res = await h.api('GET', `/proposals/${s.proposalId}/preview`);
  const requests = h.sandbox.requests.slice(from).filter((r) => r.path.includes(`/${s.repoName}`));
  return { status: res.status, body: res.body, requests };
}

/** Reads only: REST GETs, and git's ref advertisement and upload-pack (a fetch); never a push or a REST write. */
function expectReadsOnly(requests: readonly RecordedRequest[]): void {
  const writes = requests.filter((r) =>
    r.kind === 'git' ? /receive-pack/.test(r.path) || /receive-pack/.test(JSON.stringify(r.query)) : r.method !== 'GET',
  );
  expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  // The log did see the preview's traffic: its fetch of the base branch, at least.
  expect(requests.filter((r) => r.kind === 'git' && /upload-pack/.test(r.path)).length).toBeGreaterThan(0);
}

async function rowOf(s: Seeded) {
  return h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } });
}

async function openPr(s: Seeded): Promise<void> {
  const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(res.status).toBe(202);
  expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
}

describe('GET /proposals/{id}/preview', () => {
  test('a study-backed proposal: branch, diff, title, body and chart exactly as the run then sends them; nothing written', async () => {
    const s = await seedProposal(h);
    const before = await rowOf(s);
    const bare = h.sandbox.bareDir(OWNER, s.repoName);
    const { status, body, requests } = await preview(s);
    expect(status).toBe(200);
    expectReadsOnly(requests);
    expect(await rowOf(s)).toEqual(before);
    expect(await git(bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe('refs/heads/main');
    expect(h.sandbox.pulls(OWNER, s.repoName)).toEqual([]);
    await saveHistory('preview-study-backed', await h.env.client.workflow.getHandle(body.workflow_id).fetchHistory());
    expect(body).toMatchObject({
      proposal_id: s.proposalId,
      workflow_id: expect.stringMatching(new RegExp(`^preview:${s.proposalId}:`)),
      branch: branchOf(s),
      base: 'main',
      base_commit: await git(bare, 'rev-parse', 'main'),
      adopts_commit: null,
      params_path: PARAMS_PATH,
      chart_note: null,
      warnings: [],
      supersedes: [],
      would_fail: null,
    });
    expect(body.changes.map((c: { key: string; to: unknown }) => [c.key, c.to])).toEqual([
      ['bm25.k1', 1.35],
      ['field_boosts.title', 4.5],
    ]);
    expect(body.diff).toBe(
      [
        `--- a/${PARAMS_PATH}`,
        `+++ b/${PARAMS_PATH}`,
        '@@ -1,6 +1,6 @@',
        ' {',
        '-  "field_boosts.title": 2.0,',
        '+  "field_boosts.title": 4.5,',
        '   "field_boosts.body": 1.0,',
        '-  "bm25.k1": 1.2,',
        '+  "bm25.k1": 1.35,',
        '   "fuzziness": "AUTO"',
        ' }',
        '',
      ].join('\n'),
    );

    // The run sends what the preview showed.
    await openPr(s);
    const [pr] = h.sandbox.pulls(OWNER, s.repoName);
    expect({ title: pr?.title, body: pr?.body }).toEqual({ title: body.title, body: body.body });
    expect(await git(bare, 'diff', `main..${branchOf(s)}`, '--', PARAMS_PATH)).toContain(
      body.diff.split('\n').slice(2).join('\n').trimEnd(),
    );
    const committed = (await gitBlob(bare, `${branchOf(s)}:${body.chart.path}`)).toString('base64');
    expect(body.chart).toMatchObject({ path: `.relyloop/digest-charts/${s.studyId}.png`, media_type: 'image/png' });
    expect(body.chart.png_base64).toBe(committed);
    // Once the PR is open the proposal is no longer pending: nothing to preview.
    expect((await preview(s)).status).toBe(409);
  }, 120_000);

  test('a manual proposal: no chart, the body without one; warnings for a reviewer and an assignee GitHub would refuse', async () => {
    const s = await seedProposal(h, { study: false });
    expect(
      (
        await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
          pr_options: { reviewers: ['alice', 'mallory'], assignees: ['bob', 'eve'], labels: ['tuning'] },
        })
      ).status,
    ).toBe(200);
    h.sandbox.addCollaborators(OWNER, s.repoName, { users: ['alice', 'bob'] });
    const { status, body, requests } = await preview(s);
    expect(status).toBe(200);
    expectReadsOnly(requests);
    expect(body).toMatchObject({
      chart: null,
      chart_note: 'manual proposal',
      pr_options: { reviewers: ['alice', 'mallory'], assignees: ['bob', 'eve'], labels: ['tuning'] },
      warnings: [
        `review request for mallory would not be applied: not a collaborator of ${OWNER}/${s.repoName}`,
        `eve cannot be assigned in ${OWNER}/${s.repoName}: GitHub would leave them out`,
      ],
      would_fail: null,
    });
    expect(requests.filter((r) => r.kind === 'rest').map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/v3/repos/${OWNER}/${s.repoName}/collaborators/alice`,
      `GET /api/v3/repos/${OWNER}/${s.repoName}/collaborators/mallory`,
      `GET /api/v3/repos/${OWNER}/${s.repoName}/assignees/bob`,
      `GET /api/v3/repos/${OWNER}/${s.repoName}/assignees/eve`,
    ]);
    await openPr(s);
    const [pr] = h.sandbox.pulls(OWNER, s.repoName);
    expect({ title: pr?.title, body: pr?.body }).toEqual({ title: body.title, body: body.body });
    expect(pr?.title).toBe(`RelyLoop manual proposal ${s.proposalId.slice(0, 8)}`);
  }, 120_000);

  test('supersede: the open PRs the new one would close are listed', async () => {
    const first = await seedProposal(h, { study: false, supersede: true });
    await openPr(first);
    const second = await seedProposal(h, { reuse: first, study: false, diff: { 'bm25.k1': { from: 1.2, to: 1.3 } } });
    const { body } = await preview(second);
    expect(body.supersedes).toEqual([{ proposal_id: first.proposalId, pr_number: (await rowOf(first)).prNumber }]);
    expect(h.sandbox.pulls(OWNER, first.repoName).map((p) => p.state)).toEqual(['open']);
  }, 120_000);

  test.each([
    [
      'PARAM_NOT_IN_TEMPLATE',
      'apply_diff',
      { diff: { 'no.such.key': { from: 1, to: 2 } } },
      undefined,
      /no\.such\.key/,
    ],
    ['PARAMS_FILE_NOT_FOUND', 'path_check', {}, 'clusters/staging', /clusters\/staging\/search\.params\.json/],
    ['CONFIG_PATH_INVALID', 'path_check', {}, 'README.md', /README\.md/],
  ] as const)(
    'predicts %s at %s, writing nothing',
    async (code, step, seedOpts, configPath, message) => {
      const s = await seedProposal(h, { study: false, ...seedOpts });
      if (configPath !== undefined)
        expect((await h.api('PATCH', `/clusters/${s.clusterId}`, { config_path: configPath })).status).toBe(200);
      const before = await rowOf(s);
      const { status, body, requests } = await preview(s);
      expect(status).toBe(200);
      expect(body.would_fail).toEqual({ code, step, message: expect.stringMatching(message) });
      expect(body).toMatchObject({ title: null, body: null, diff: null });
      expectReadsOnly(requests);
      expect(await rowOf(s)).toEqual(before);
      // The run meets the failure the preview named.
      const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
      await h.env.client.workflow
        .getHandle(res.body.workflow_id)
        .result()
        .catch(() => undefined);
      expect((await rowOf(s)).prOpenError).toMatch(new RegExp(`^${code}: `));
    },
    120_000,
  );

  test('a branch of the same name that is not ours: BRANCH_EXISTS predicted at branch_check; the branch untouched', async () => {
    const s = await seedProposal(h, { study: false });
    const foreign = await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: s.repoName,
      token: GH_TOKEN,
      branch: branchOf(s),
      files: { 'someone.txt': `${randomUUID()}\n` },
    });
    const { body, requests } = await preview(s);
    expect(body.would_fail).toMatchObject({ code: 'BRANCH_EXISTS', step: 'branch_check' });
    expectReadsOnly(requests);
    expect(await git(h.sandbox.bareDir(OWNER, s.repoName), 'rev-parse', branchOf(s))).toBe(foreign);
  }, 120_000);

  test('a preview while a run of the same repo holds its lock: answered at once, and the run still opens one PR', async () => {
    const running = await seedProposal(h, { study: false });
    const other = await seedProposal(h, { reuse: running, study: false, diff: { 'bm25.k1': { from: 1.2, to: 1.4 } } });
    // The run is held at its push, inside the repo lock.
    const held = h.sandbox.holdNext({
      method: 'POST',
      path: new RegExp(`^/${OWNER}/${running.repoName}\\.git/git-receive-pack$`),
      when: 'before',
    });
    const res = await h.api('POST', `/proposals/${running.proposalId}/open_pr`);
    await held.reached;
    const { status, body } = await preview(other);
    expect(status).toBe(200);
    expect(body.would_fail).toBeNull();
    held.release();
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    expect(h.sandbox.pulls(OWNER, running.repoName).map((p) => p.head.ref)).toEqual([branchOf(running)]);
  }, 120_000);

  test('unknown proposal 404; a cluster without a config repo 422', async () => {
    expect((await h.api('GET', `/proposals/${randomUUID()}/preview`)).body.detail.error_code).toBe(
      'PROPOSAL_NOT_FOUND',
    );
    const s = await seedProposal(h, { study: false });
    expect((await h.api('PATCH', `/clusters/${s.clusterId}`, { config_path: null })).status).toBe(200);
    const res = await h.api('GET', `/proposals/${s.proposalId}/preview`);
    expect({ status: res.status, code: res.body.detail.error_code }).toEqual({
      status: 422,
      code: 'CLUSTER_HAS_NO_CONFIG_REPO',
    });
  }, 60_000);
});

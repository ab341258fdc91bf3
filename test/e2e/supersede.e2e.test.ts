// Supersede, end to end: a real Temporal dev server, PostgreSQL and the GitHub sandbox. A newer
// proposal's PR for the same params file closes the older proposal's open PR (comment linking the
// new one, branch deleted when it holds only our commit, proposal `superseded`), once even when an
// attempt is lost half-way; a merged older PR is left alone; the option turns it off.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { OpenPrOutcome } from '../../domain/open-pr-contracts.js';
import { supersedeCommentMarker } from '../../domain/supersede-comment.js';
import { pushBranch } from '../../sandbox/branches.js';
import { git } from '../support/git-cli.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { branchOf, seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { saveHistory } from '../support/history-fixtures.js';
import { sandboxRest } from '../support/sandbox-rest.js';

let h: OpenPrHarness;

beforeAll(async () => {
  h = await startOpenPrHarness();
}, 120_000);
afterAll(async () => h?.close(), 60_000);

async function open(s: Seeded): Promise<{ outcome: OpenPrOutcome; workflowId: string }> {
  const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(res.status).toBe(202);
  const workflowId = res.body.workflow_id as string;
  return { outcome: await h.env.client.workflow.getHandle(workflowId).result(), workflowId };
}

async function proposal(id: string) {
  return (await h.api('GET', `/proposals/${id}`)).body as {
    status: string;
    pr_state: string | null;
    pr_number: number;
    superseded_by: string | null;
  };
}

const pullOf = (s: Seeded) => h.sandbox.pulls(OWNER, s.repoName).find((p) => p.head.ref === branchOf(s));
const stateOf = (s: Seeded) => {
  const pull = pullOf(s);
  return pull && { state: pull.state, merged: pull.merged === true };
};
const branchOnRemote = async (s: Seeded) =>
  (await git(h.sandbox.bareDir(OWNER, s.repoName), 'for-each-ref', '--format=%(refname)', 'refs/heads/')).includes(
    `refs/heads/${branchOf(s)}`,
  );
const supersedeComments = (s: Seeded, pr: number, by: Seeded) =>
  h.sandbox.comments(OWNER, s.repoName, pr).filter((c) => c.body.includes(supersedeCommentMarker(by.proposalId)));

/** Two manual proposals for the same params file on a repo that supersedes; the first one's PR open. */
async function firstOpenedThenSecond(to: number): Promise<{ first: Seeded; second: Seeded; older: number }> {
  const first = await seedProposal(h, { supersede: true, study: false });
  const second = await seedProposal(h, { reuse: first, study: false, diff: { 'bm25.k1': { from: 1.2, to } } });
  await open(first);
  return { first, second, older: (await proposal(first.proposalId)).pr_number };
}

/** The attempts of the supersede activity in a run's history. */
async function supersedeAttempts(workflowId: string): Promise<number[]> {
  const events = (await h.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'supersedeOlderPrs')
      .map((e) => String(e.eventId)),
  );
  return events
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a !== null && a !== undefined && scheduled.has(String(a.scheduledEventId)))
    .map((a) => a?.attempt ?? 0);
}

describe('a newer proposal for the same params file supersedes the older one', () => {
  test('one open PR: the older closed with a comment linking the new one, its branch gone, its proposal superseded', async () => {
    const first = await seedProposal(h, { supersede: true });
    const second = await seedProposal(h, {
      reuse: first,
      study: false,
      diff: { 'bm25.k1': { from: 1.2, to: 1.5 } },
    });
    expect((await open(first)).outcome).toMatchObject({ outcome: 'opened', supersede: { superseded: [] } });
    const older = (await proposal(first.proposalId)).pr_number;
    const from = h.sandbox.requests.length;
    const { outcome, workflowId } = await open(second);
    await saveHistory('open-pr-supersede', await h.env.client.workflow.getHandle(workflowId).fetchHistory());
    const newer = pullOf(second);
    // What superseding one PR cost on GitHub: 3 writes, 2 reads.
    const repoApi = `/api/v3/repos/${OWNER}/${first.repoName}`;
    const olderBranch = encodeURIComponent(`heads/${branchOf(first)}`);
    expect(
      h.sandbox.requests
        .slice(from)
        .filter((r) => r.kind === 'rest')
        .map((r) => `${r.method} ${r.path.replace(repoApi, '')}`)
        .filter((r) => r.includes(`/${older}`) || r.includes('/git/commits/') || r.includes(olderBranch)),
    ).toEqual([
      `PATCH /pulls/${older}`,
      `GET /issues/${older}/comments`,
      `POST /issues/${older}/comments`,
      `GET /git/commits/${pullOf(first)?.head.sha ?? ''}`,
      `DELETE /git/refs/${olderBranch}`,
    ]);
    expect(outcome).toEqual({
      outcome: 'opened',
      prUrl: `${h.sandbox.origin}/${OWNER}/${first.repoName}/pull/${newer?.number}`,
      prNumber: newer?.number,
      branch: branchOf(second),
      adoptedPr: false,
      supersede: {
        superseded: [{ proposalId: first.proposalId, prNumber: older, branchDeleted: true }],
        leftAlone: [],
      },
    });
    expect(h.sandbox.pulls(OWNER, first.repoName).map((p) => [p.number, p.state, p.merged === true])).toEqual([
      [older, 'closed', false],
      [newer?.number, 'open', false],
    ]);
    const [comment, ...more] = supersedeComments(first, older, second);
    expect(more).toEqual([]);
    expect(comment?.body).toContain(
      `Superseded by #${newer?.number} (${outcome.outcome === 'opened' && outcome.prUrl})`,
    );
    expect(await branchOnRemote(first)).toBe(false);
    expect(await branchOnRemote(second)).toBe(true);
    expect(await proposal(first.proposalId)).toMatchObject({
      status: 'superseded',
      pr_state: 'closed',
      superseded_by: second.proposalId,
    });
    expect(await proposal(second.proposalId)).toMatchObject({
      status: 'pr_opened',
      pr_state: 'open',
      superseded_by: null,
    });
    const listed = await h.api('GET', `/proposals?status=superseded&cluster_id=${first.clusterId}`);
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual([first.proposalId]);
    // A third supersedes the second only: the first is no longer pr_opened.
    const third = await seedProposal(h, { reuse: first, study: false, diff: { 'bm25.k1': { from: 1.2, to: 1.1 } } });
    const again = await open(third);
    expect(again.outcome).toMatchObject({
      supersede: { superseded: [{ proposalId: second.proposalId }], leftAlone: [] },
    });
    expect(h.sandbox.pulls(OWNER, first.repoName).filter((p) => p.state === 'open')).toHaveLength(1);
  }, 120_000);

  test('an attempt whose answers were lost after GitHub acted: its retry closes, comments and deletes once', async () => {
    const { first, second, older } = await firstOpenedThenSecond(1.6);
    const repoPath = `^/api/v3/repos/${OWNER}/${first.repoName}`;
    // The close, the comment and the branch delete each reach GitHub, and each answer is lost.
    for (const [method, path] of [
      ['PATCH', `${repoPath}/pulls/${older}$`],
      ['POST', `${repoPath}/issues/${older}/comments$`],
      ['DELETE', `${repoPath}/git/refs/heads.*$`],
    ] as const)
      h.sandbox.injectFaults({ method, path: new RegExp(path), faults: [{ dropAnswer: true }] });
    const { outcome, workflowId } = await open(second);
    h.sandbox.clearFaults();
    expect(outcome).toMatchObject({
      outcome: 'opened',
      supersede: { superseded: [{ proposalId: first.proposalId, prNumber: older }], leftAlone: [] },
    });
    // Four attempts: each lost answer failed one, and the next carried on where the row said.
    expect(await supersedeAttempts(workflowId)).toEqual([4]);
    expect(supersedeComments(first, older, second)).toHaveLength(1);
    expect(stateOf(first)).toEqual({ state: 'closed', merged: false });
    expect(await branchOnRemote(first)).toBe(false);
    expect(await proposal(first.proposalId)).toMatchObject({ status: 'superseded', superseded_by: second.proposalId });
  }, 120_000);

  test('an older PR merged meanwhile (no webhook told us) is left alone and recorded merged', async () => {
    const { first, second, older } = await firstOpenedThenSecond(1.7);
    const merged = await sandboxRest(h.sandbox, 'PUT', `/repos/${OWNER}/${first.repoName}/pulls/${older}/merge`, {
      merge_method: 'merge',
    });
    expect(merged.status).toBe(200);
    expect(await proposal(first.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });
    const { outcome } = await open(second);
    expect(outcome).toMatchObject({
      supersede: {
        superseded: [],
        leftAlone: [{ proposalId: first.proposalId, prNumber: older, reason: `PR #${older} was merged` }],
      },
    });
    expect(stateOf(first)).toEqual({ state: 'closed', merged: true });
    expect(h.sandbox.comments(OWNER, first.repoName, older)).toEqual([]);
    expect(await branchOnRemote(first)).toBe(true);
    expect(await proposal(first.proposalId)).toMatchObject({
      status: 'pr_merged',
      pr_state: 'merged',
      superseded_by: null,
    });
  }, 120_000);

  test('a branch someone pushed to is kept; the PR is still closed and the proposal superseded', async () => {
    const { first, second, older } = await firstOpenedThenSecond(1.8);
    await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: first.repoName,
      token: GH_TOKEN,
      branch: branchOf(first),
      from: branchOf(first),
      files: { 'notes.txt': 'a reviewer pushed this\n' },
    });
    const { outcome } = await open(second);
    expect(outcome).toMatchObject({
      supersede: {
        superseded: [
          {
            proposalId: first.proposalId,
            prNumber: older,
            branchDeleted: false,
            warnings: [
              `branch ${branchOf(first)} kept: its tip is not the commit made for proposal ${first.proposalId}`,
            ],
          },
        ],
      },
    });
    expect(stateOf(first)).toEqual({ state: 'closed', merged: false });
    expect(await branchOnRemote(first)).toBe(true);
    expect(await proposal(first.proposalId)).toMatchObject({ status: 'superseded' });
  }, 120_000);

  test('GitHub refusing the close is a reason on the run, not a failure: the older proposal stays as it was', async () => {
    const { first, second, older } = await firstOpenedThenSecond(1.05);
    const message = 'Resource not accessible by personal access token';
    h.sandbox.injectFaults({
      method: 'PATCH',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${first.repoName}/pulls/${older}$`),
      faults: [{ status: 403, body: { message, documentation_url: 'https://docs.github.com/rest', status: '403' } }],
    });
    const { outcome } = await open(second);
    expect(outcome).toMatchObject({
      outcome: 'opened',
      supersede: { superseded: [], leftAlone: [{ proposalId: first.proposalId, prNumber: older }] },
    });
    const reason = outcome.outcome === 'opened' && 'leftAlone' in (outcome.supersede ?? {}) ? outcome.supersede : null;
    expect(JSON.stringify(reason)).toContain(message);
    expect(stateOf(first)).toEqual({ state: 'open', merged: false });
    expect(await branchOnRemote(first)).toBe(true);
    expect(await proposal(first.proposalId)).toMatchObject({
      status: 'pr_opened',
      pr_state: 'open',
      superseded_by: null,
    });
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: first.proposalId } })).supersededById).toBe(
      null,
    );
  }, 120_000);

  test('with pr_options.supersede off, and for another params file, both PRs stay open', async () => {
    const off = await seedProposal(h, { supersede: false, study: false });
    const offNext = await seedProposal(h, { reuse: off, study: false, diff: { 'bm25.k1': { from: 1.2, to: 1.9 } } });
    await open(off);
    expect((await open(offNext)).outcome).not.toHaveProperty('supersede');
    expect(h.sandbox.pulls(OWNER, off.repoName).map((p) => p.state)).toEqual(['open', 'open']);
    expect(await proposal(off.proposalId)).toMatchObject({ status: 'pr_opened', pr_state: 'open' });

    // Same repo and cluster, another template: another params file.
    const on = await seedProposal(h, { supersede: true, study: false });
    await open(on);
    const other = await h.api('POST', '/templates', {
      cluster_id: on.clusterId,
      name: 'ranking',
      declared_params: ['bm25.k1'],
    });
    const files = { 'clusters/prod/ranking.params.json': '{\n  "bm25.k1": 1.2\n}\n' };
    const bare = h.sandbox.bareDir(OWNER, on.repoName);
    await pushBranch(h.sandbox, {
      owner: OWNER,
      repo: on.repoName,
      token: GH_TOKEN,
      branch: 'main',
      from: 'main',
      files,
    });
    expect(await git(bare, 'show', 'main:clusters/prod/ranking.params.json')).toContain('1.2');
    const ranking = await seedProposal(h, {
      reuse: { ...on, templateId: other.body.id },
      study: false,
      diff: { 'bm25.k1': { from: 1.2, to: 1.25 } },
    });
    expect((await open(ranking)).outcome).toMatchObject({ supersede: { superseded: [], leftAlone: [] } });
    expect(h.sandbox.pulls(OWNER, on.repoName).map((p) => p.state)).toEqual(['open', 'open']);
  }, 120_000);
});

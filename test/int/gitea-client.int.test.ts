// The forge port on a real Gitea: adapters/gitea/gitea-client.ts against the pinned
// Gitea build, every operation the open-PR workflow and the lifecycle use, and each difference
// from GitHub it handles (see gitea-forge.int.test.ts for the forge's raw answers).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createGiteaClient, GITEA_WIP_PREFIX } from '../../adapters/gitea/gitea-client.js';
import { AppError } from '../../domain/errors.js';
import { createMemoryGitHubPacer, GITEA_PACING_RULES, type GitHubPacer } from '../../domain/github-pacing.js';
import type { ForgePullRequests } from '../../domain/forge.js';
import { NO_PR_OPTIONS } from '../../domain/pr-options.js';
import { Redactor } from '../../domain/redact.js';
import { startGitea, type GiteaServer } from '../support/gitea.js';

let gitea: GiteaServer;
let redactor: Redactor;
const REPO = 'client';

beforeAll(async () => {
  // A server that pages by 10 however many the client asks for (its MAX_RESPONSE_ITEMS).
  gitea = await startGitea({ maxResponseItems: 10 });
  redactor = new Redactor();
  redactor.register(gitea.token);
  await gitea.createRepo(REPO);
}, 120_000);
afterAll(async () => {
  await gitea?.stop();
});

const clientFor = (token = gitea.token): ForgePullRequests =>
  createGiteaClient({ origin: gitea.origin, token, owner: gitea.user, repo: REPO, redactor });

/** A branch off main made by Gitea itself (a PR needs no new commit there). */
async function branch(name: string): Promise<void> {
  const res = await gitea.request('POST', `/repos/${gitea.user}/${REPO}/branches`, {
    new_branch_name: name,
    old_branch_name: 'main',
  });
  expect(res.status).toBe(201);
}

describe('pull requests', () => {
  test('created once; a second attempt (Gitea 409) adopts the open one', async () => {
    await branch('relyloop/study-a');
    const client = clientFor();
    const first = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-a',
      base: 'main',
      title: 'Tune prod',
      body: 'body',
    });
    expect(first).toMatchObject({
      headRef: 'relyloop/study-a',
      baseRef: 'main',
      state: 'open',
      adopted: false,
      url: `${gitea.origin}/${gitea.user}/${REPO}/pulls/${first.number}`,
    });
    const again = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-a',
      base: 'main',
      title: 'Tune prod',
      body: 'body',
    });
    expect(again).toMatchObject({ number: first.number, adopted: true });
    expect(
      (await gitea.request('GET', `/repos/${gitea.user}/${REPO}/pulls?state=all`)).body.filter(
        (p: { head: { ref: string } }) => p.head.ref === 'relyloop/study-a',
      ),
    ).toHaveLength(1);
  });

  test("a draft carries Gitea's work-in-progress prefix (Gitea ignores `draft`)", async () => {
    await branch('relyloop/study-draft');
    const pr = await clientFor().createOrAdoptPullRequest({
      head: 'relyloop/study-draft',
      base: 'main',
      title: 'Tune',
      body: 'b',
      draft: true,
    });
    const read = await gitea.request('GET', `/repos/${gitea.user}/${REPO}/pulls/${pr.number}`);
    expect(read.body.title).toBe(`${GITEA_WIP_PREFIX}Tune`);
  });

  test('found by head beyond the first page of open PRs (Gitea ignores the head filter and caps the page)', async () => {
    for (let i = 0; i < 12; i += 1) {
      await branch(`filler/${i}`);
      expect(
        (
          await gitea.request('POST', `/repos/${gitea.user}/${REPO}/pulls`, {
            head: `filler/${i}`,
            base: 'main',
            title: `filler ${i}`,
          })
        ).status,
      ).toBe(201);
    }
    const client = clientFor();
    expect(await client.findOpenPullRequest('relyloop/study-a')).toMatchObject({
      headRef: 'relyloop/study-a',
      adopted: false,
    });
    expect(await client.findOpenPullRequest('relyloop/no-such-branch')).toBeNull();
  }, 120_000);

  test('closed (Gitea answers 201), read back; an unknown number is null', async () => {
    await branch('relyloop/study-close');
    const client = clientFor();
    const pr = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-close',
      base: 'main',
      title: 'x',
      body: 'y',
    });
    expect(await client.closePullRequest(pr.number)).toMatchObject({ number: pr.number, state: 'closed' });
    expect(await client.getPullRequest(pr.number)).toMatchObject({
      number: pr.number,
      state: 'closed',
      merged: false,
      merged_at: null,
      head: { ref: 'relyloop/study-close' },
      etag: null,
    });
    expect(await client.getPullRequest(99_999)).toBeNull();
  });

  test('a merge made on Gitea reads back as merged', async () => {
    // A PR with a commit of its own: Gitea cannot merge one that changes nothing.
    const put = await gitea.request('POST', `/repos/${gitea.user}/${REPO}/contents/clusters/prod/search.params.json`, {
      content: Buffer.from('{"bm25":{"k1":1.4}}\n').toString('base64'),
      message: 'tune',
      branch: 'main',
      new_branch: 'relyloop/study-merge',
    });
    expect(put.status).toBe(201);
    const client = clientFor();
    const pr = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-merge',
      base: 'main',
      title: 'merge me',
      body: 'b',
    });
    // Gitea answers 405 "try again later" while it still checks a PR it has just opened.
    for (let attempt = 0; ; attempt += 1) {
      const merged = await gitea.request('POST', `/repos/${gitea.user}/${REPO}/pulls/${pr.number}/merge`, {
        Do: 'merge',
      });
      if (merged.status === 200) break;
      expect(merged.status).toBe(405);
      expect(attempt).toBeLessThan(50);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const state = await client.getPullRequest(pr.number);
    expect(state).toMatchObject({ state: 'closed', merged: true });
    expect(Date.parse((state as { merged_at: string }).merged_at)).toBeGreaterThan(0);
  }, 60_000);
});

describe('comments, options, branches, failures', () => {
  test('the chart comment is posted once: a second call finds it by its marker', async () => {
    await branch('relyloop/study-comment');
    const client = clientFor();
    const pr = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-comment',
      base: 'main',
      title: 'c',
      body: 'b',
    });
    const marker = '<!-- relyloop:chart study=s1 -->';
    const first = await client.createCommentOnce({ issueNumber: pr.number, body: '![chart](x.png)', marker });
    const second = await client.createCommentOnce({ issueNumber: pr.number, body: '![chart](x.png)', marker });
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.comment.id).toBe(first.comment.id);
    expect((await client.listComments(pr.number)).filter((c) => c.body.includes(marker))).toHaveLength(1);
  });

  test('labels by name (a missing one is a warning, never dropped silently) and assignees, applied once', async () => {
    expect(
      (await gitea.request('POST', `/repos/${gitea.user}/${REPO}/labels`, { name: 'relyloop', color: '#00aabb' }))
        .status,
    ).toBe(201);
    await branch('relyloop/study-options');
    const client = clientFor();
    const pr = await client.createOrAdoptPullRequest({
      head: 'relyloop/study-options',
      base: 'main',
      title: 'o',
      body: 'b',
    });
    const options = { ...NO_PR_OPTIONS, labels: ['relyloop', 'no-such-label'], assignees: [gitea.user] };
    const warnings = await client.applyPrOptions(pr.number, options);
    expect(warnings).toEqual([expect.stringMatching(/^labels not applied: no-such-label \(no such label/)]);
    const read = await gitea.request('GET', `/repos/${gitea.user}/${REPO}/pulls/${pr.number}`);
    expect(read.body.labels.map((l: { name: string }) => l.name)).toEqual(['relyloop']);
    expect(read.body.assignees.map((a: { login: string }) => a.login)).toEqual([gitea.user]);
    // Again (a retried attempt): the missing label is still reported, nothing is added twice.
    expect(await client.applyPrOptions(pr.number, options)).toEqual([expect.stringMatching(/no-such-label/)]);
    const again = await gitea.request('GET', `/repos/${gitea.user}/${REPO}/pulls/${pr.number}`);
    expect(again.body.labels).toHaveLength(1);
    expect(again.body.assignees).toHaveLength(1);
  });

  test('a branch is deleted once; a branch already gone counts as done', async () => {
    await branch('relyloop/study-gone');
    const client = clientFor();
    expect(await client.deleteBranch('relyloop/study-gone')).toEqual({ deleted: true });
    expect(await client.deleteBranch('relyloop/study-gone')).toEqual({ deleted: false });
  });

  test('a token Gitea does not know is GITHUB_AUTH_FAILED, and the token is not in the message', async () => {
    const bad = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    redactor.register(bad);
    const error = await clientFor(bad)
      .findOpenPullRequest('x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'GITHUB_AUTH_FAILED', retryable: false, upstreamStatus: 401 });
    expect((error as AppError).message).toMatch(
      /^Gitea list pull requests \(relyloop\/client\) failed: 401 .*the token is invalid/,
    );
    expect((error as AppError).message).not.toContain(bad);
  });

  test('a server that is not there is transient (retried by the step)', async () => {
    const client = createGiteaClient({
      origin: 'http://127.0.0.1:1',
      token: gitea.token,
      owner: gitea.user,
      repo: REPO,
      redactor,
    });
    await expect(client.getPullRequest(1)).rejects.toMatchObject({ code: 'GITHUB_API_FAILED', retryable: true });
  });
});

describe('write pacing per token (RELYLOOP_GITEA_WRITE_GAP)', () => {
  /** A pacer that records when each write got its turn and when its answer freed it. */
  function recording(gapMs: number) {
    const inner = createMemoryGitHubPacer({ ...GITEA_PACING_RULES, writeGapMs: gapMs });
    const turns: { start: number; end?: number }[] = [];
    let asks = 0;
    const pacer: GitHubPacer = {
      async tryWrite(token, opts) {
        asks += 1;
        const wait = await inner.tryWrite(token, opts);
        if (wait === 0) turns.push({ start: Date.now() });
        return wait;
      },
      async writeDone(token) {
        const open = turns.find((t) => t.end === undefined);
        if (open) open.end = Date.now();
        await inner.writeDone(token);
      },
      renewWrite: (token) => inner.renewWrite(token),
    };
    return { pacer, turns, asks: () => asks };
  }

  /** Three comments posted at once on one PR by a client paced with `gapMs`; what the pacer saw. */
  async function threeCommentsAtOnce(gapMs: number, tag: string) {
    const recorded = recording(gapMs);
    const pr = await clientFor().createOrAdoptPullRequest({
      head: 'relyloop/study-a',
      base: 'main',
      title: 't',
      body: 'b',
    });
    const client = createGiteaClient({
      origin: gitea.origin,
      token: gitea.token,
      owner: gitea.user,
      repo: REPO,
      redactor,
      pacer: recorded.pacer,
    });
    await Promise.all(
      [1, 2, 3].map((i) =>
        client.createCommentOnce({ issueNumber: pr.number, body: `${tag} ${i}`, marker: `<!-- ${tag}-${i} -->` }),
      ),
    );
    return recorded;
  }

  test("with a gap, the token's writes to Gitea are serial and each starts the gap after the previous answer", async () => {
    const { turns } = await threeCommentsAtOnce(300, 'paced');
    expect(turns).toHaveLength(3);
    for (let i = 1; i < turns.length; i += 1) {
      expect((turns[i] as { start: number }).start - (turns[i - 1] as { end: number }).end).toBeGreaterThanOrEqual(300);
    }
  });

  test('at the default 0s nothing waits: every write takes its turn at the first ask', async () => {
    const { turns, asks } = await threeCommentsAtOnce(GITEA_PACING_RULES.writeGapMs, 'unpaced');
    expect(turns).toHaveLength(3);
    expect(asks()).toBe(3);
  });
});

// A real Gitea, built from its Go module by scripts/install-gitea.sh and started by
// test/support/gitea.ts: the harness works, and the forge's own answers on the operations the
// open-PR workflow and the PR lifecycle need are what the Gitea adapter is to be written against.
// Each difference from GitHub that the adapter must handle is pinned here, on the forge itself.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readPullRequestEvent } from '../../domain/pr-lifecycle.js';
import { runGit } from '../../sandbox/git-cli.js';
import { startGitea, type GiteaServer } from '../support/gitea.js';
import { waitUntil } from '../support/wait.js';

let gitea: GiteaServer;
let work: string;
beforeAll(async () => {
  gitea = await startGitea();
  work = await mkdtemp(path.join(os.tmpdir(), 'relyloop-gitea-git-'));
}, 120_000);
afterAll(async () => {
  await gitea?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const git = async (cwd: string, ...args: string[]) => {
  const r = await runGit(['-C', cwd, ...args], { home: work });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString('utf8').trim();
};

/** Clones `repo`, commits `file` on a new `branch` and pushes it with the token; the commit id. */
async function pushBranch(repo: string, branch: string, file = 'clusters/prod/search.params.json'): Promise<string> {
  const dir = path.join(work, `${repo}-${branch.replaceAll('/', '-')}`);
  await git(work, 'clone', '--quiet', gitea.authedCloneUrl(repo), dir);
  await git(dir, 'checkout', '--quiet', '-b', branch);
  await writeFile(path.join(dir, path.basename(file)), '{"bm25":{"k1":1.4}}\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '--quiet', '-m', 'tune');
  await git(dir, 'push', '--quiet', 'origin', branch);
  return git(dir, 'rev-parse', 'HEAD');
}

describe('the harness', () => {
  test('Gitea is up headless, its token works, and a repo is seeded with a main branch', async () => {
    const version = await gitea.request('GET', '/version');
    expect(version).toMatchObject({ status: 200, body: { version: '1.27.3' } });
    const me = await gitea.request('GET', '/user');
    expect(me.body).toMatchObject({ login: gitea.user, is_admin: true });
    await gitea.createRepo('seeded');
    const branch = await gitea.request('GET', `/repos/${gitea.user}/seeded/branches/main`);
    // A branch's tip is `commit.id` (GitHub: `commit.sha`).
    expect(branch.body.commit.id).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('what the Gitea adapter must handle (each a difference from GitHub)', () => {
  const repo = 'facts';
  let head = '';
  beforeAll(async () => {
    await gitea.createRepo(repo);
    head = await pushBranch(repo, 'relyloop/study-1');
  }, 60_000);

  test('git smart HTTP takes the token as the basic-auth password; a wrong one is refused', async () => {
    const remote = await runGit(['ls-remote', gitea.authedCloneUrl(repo), 'refs/heads/relyloop/study-1'], {
      home: work,
    });
    expect(remote.stdout.toString('utf8')).toContain(head);
    const wrong = gitea.authedCloneUrl(repo).replace(gitea.token, 'not-a-token');
    const refused = await runGit(['ls-remote', wrong], { home: work });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Authentication failed|401|403/);
  });

  test('a second PR for the same head and base is 409 (GitHub: 422); the PR is found by base and head', async () => {
    const created = await gitea.request('POST', `/repos/${gitea.user}/${repo}/pulls`, {
      head: 'relyloop/study-1',
      base: 'main',
      title: 'tune',
      body: 'b',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number: 1, state: 'open', head: { ref: 'relyloop/study-1', sha: head } });
    const again = await gitea.request('POST', `/repos/${gitea.user}/${repo}/pulls`, {
      head: 'relyloop/study-1',
      base: 'main',
      title: 'tune',
      body: 'b',
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already exists/i);
    const found = await gitea.request('GET', `/repos/${gitea.user}/${repo}/pulls/main/relyloop/study-1`);
    expect(found).toMatchObject({ status: 200, body: { number: 1 } });
  });

  test('GET /pulls ignores `head` (GitHub filters by it): the adapter must look up by base and head', async () => {
    await pushBranch(repo, 'relyloop/study-2');
    expect(
      (
        await gitea.request('POST', `/repos/${gitea.user}/${repo}/pulls`, {
          head: 'relyloop/study-2',
          base: 'main',
          title: 'other',
        })
      ).status,
    ).toBe(201);
    const listed = await gitea.request(
      'GET',
      `/repos/${gitea.user}/${repo}/pulls?state=open&head=${gitea.user}:relyloop/study-1`,
    );
    expect((listed.body as { head: { ref: string } }[]).map((p) => p.head.ref).sort()).toEqual([
      'relyloop/study-1',
      'relyloop/study-2',
    ]);
  });

  test('comments are one unpaged list; closing with PATCH answers 201 (GitHub: 200)', async () => {
    const comment = await gitea.request('POST', `/repos/${gitea.user}/${repo}/issues/2/comments`, {
      body: '<!-- relyloop:chart -->\nchart',
    });
    expect(comment.status).toBe(201);
    expect(
      (await gitea.request('POST', `/repos/${gitea.user}/${repo}/issues/2/comments`, { body: 'second' })).status,
    ).toBe(201);
    // The comment list takes no paging (GitHub pages it): any `page` answers every comment.
    const paged = await gitea.request('GET', `/repos/${gitea.user}/${repo}/issues/2/comments?limit=1&page=5`);
    expect(paged.body).toHaveLength(2);
    const closed = await gitea.request('PATCH', `/repos/${gitea.user}/${repo}/pulls/2`, { state: 'closed' });
    expect(closed).toMatchObject({ status: 201, body: { state: 'closed' } });
  });

  test('branches are deleted through /branches (the Git Data API /git/refs is not there)', async () => {
    await pushBranch(repo, 'relyloop/study-3');
    const viaRefs = await gitea.request('DELETE', `/repos/${gitea.user}/${repo}/git/refs/heads/relyloop/study-3`);
    expect(viaRefs.status).toBe(405);
    expect((await gitea.request('DELETE', `/repos/${gitea.user}/${repo}/branches/relyloop/study-3`)).status).toBe(204);
    expect((await gitea.request('GET', `/repos/${gitea.user}/${repo}/branches/relyloop/study-3`)).status).toBe(404);
  });
});

describe('webhooks', () => {
  let receiver: Server;
  const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
  });

  test("signed like GitHub (X-Hub-Signature-256, X-GitHub-Event); a pull_request payload close to GitHub's", async () => {
    const repo = 'hooks';
    await gitea.createRepo(repo);
    const secret = 'webhook-secret-for-the-test';
    const hook = await gitea.request('POST', `/repos/${gitea.user}/${repo}/hooks`, {
      type: 'gitea',
      active: true,
      events: ['pull_request'],
      config: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        content_type: 'json',
        secret,
      },
    });
    expect(hook.status).toBe(201);
    await pushBranch(repo, 'relyloop/study-9');
    expect(
      (
        await gitea.request('POST', `/repos/${gitea.user}/${repo}/pulls`, {
          head: 'relyloop/study-9',
          base: 'main',
          title: 'hooked',
        })
      ).status,
    ).toBe(201);
    await waitUntil(
      'Gitea delivers the pull_request webhook',
      async () => deliveries.some((d) => d.headers['x-github-event'] === 'pull_request'),
      30_000,
    );
    const delivery = deliveries.find(
      (d) => d.headers['x-github-event'] === 'pull_request',
    ) as (typeof deliveries)[number];
    expect(delivery.headers['x-hub-signature-256']).toBe(
      `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`,
    );
    expect(delivery.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery.headers['x-gitea-event']).toBe('pull_request');
    const payload = JSON.parse(delivery.body) as {
      action: string;
      number: number;
      pull_request: { head: { ref: string }; merged: boolean; url: string };
      repository: { html_url: string };
    };
    expect(payload).toMatchObject({
      action: 'opened',
      number: 1,
      pull_request: { head: { ref: 'relyloop/study-9' }, merged: false },
    });
    expect(payload.repository.html_url).toBe(`${gitea.origin}/${gitea.user}/${repo}`);
    // `pull_request.url` is the HTML page here (GitHub: the API URL).
    expect(payload.pull_request.url).toBe(`${gitea.origin}/${gitea.user}/${repo}/pulls/1`);

    // Deleting the head branch closes the PR; the close arrives as `closed` whose head.ref is the
    // PR's own ref, the branch name kept in head.label only (GitHub keeps it in head.ref). The REST
    // answer says the same. domain/forge.ts headBranchOf reads both.
    expect((await gitea.request('DELETE', `/repos/${gitea.user}/${repo}/branches/relyloop/study-9`)).status).toBe(204);
    await waitUntil(
      'Gitea delivers the close',
      async () =>
        deliveries.some(
          (d) => d.headers['x-github-event'] === 'pull_request' && JSON.parse(d.body).action === 'closed',
        ),
      30_000,
    );
    const closed = JSON.parse(
      (
        deliveries.find(
          (d) => d.headers['x-github-event'] === 'pull_request' && JSON.parse(d.body).action === 'closed',
        ) as (typeof deliveries)[number]
      ).body,
    );
    expect(closed).toMatchObject({
      action: 'closed',
      pull_request: { state: 'closed', merged: false, head: { ref: 'refs/pull/1/head', label: 'relyloop/study-9' } },
    });
    expect(readPullRequestEvent(closed)).toMatchObject({
      kind: 'observation',
      observation: { prNumber: 1, branch: 'relyloop/study-9', state: 'closed' },
    });
    const rest = await gitea.request('GET', `/repos/${gitea.user}/${repo}/pulls/1`);
    expect(rest.body).toMatchObject({ state: 'closed', head: { ref: 'refs/pull/1/head', label: 'relyloop/study-9' } });
  }, 60_000);
});

// The sandbox's PR lifecycle: merging as GitHub does (a real merge in the bare repo),
// closing and reopening, and signed webhook deliveries — GitHub's headers, payloads valid against
// GitHub's published webhook schemas — with dropped, duplicated and reordered deliveries.
import { describe, test, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { pushBranch } from '../../sandbox/branches.js';
import { assertGit, runGit } from '../../sandbox/git-cli.js';
import { sandboxRest } from '../support/sandbox-rest.js';

const TOKEN = 'ghp_sandboxHookToken0123456789abcdefghijkl';
const SECRET = 'sandbox-webhook-secret-0123456789';
const OWNER = 'acme';
let sandbox: GitHubSandbox;
let receiver: Server;
let receiverUrl = '';
interface Received {
  headers: Record<string, string>;
  body: string;
}
const received: Received[] = [];
let answerStatus = 200;
let repoSeq = 0;

const call = (method: string, path: string, body?: unknown) => sandboxRest(sandbox, method, path, body, TOKEN);

/** A fresh repo with a webhook to the receiver and one open PR from `relyloop/x`. */
async function repoWithPr(
  files: Record<string, string> = { 'change.json': '{"k": 2}\n' },
): Promise<{ repo: string; path: string; head: string }> {
  const repo = `hooks-${++repoSeq}`;
  await sandbox.createRepo({ owner: OWNER, repo, token: TOKEN, files: { 'params.json': '{"k": 1}\n' } });
  sandbox.configureWebhook(OWNER, repo, { url: receiverUrl, secret: SECRET });
  const head = await pushBranch(sandbox, { owner: OWNER, repo, token: TOKEN, branch: 'relyloop/x', files });
  const created = await call('POST', `/repos/${OWNER}/${repo}/pulls`, {
    head: 'relyloop/x',
    base: 'main',
    title: 'Tune k',
  });
  expect(created.status).toBe(201);
  return { repo, path: `/repos/${OWNER}/${repo}/pulls/1`, head };
}

const actionsOf = (repo: string) =>
  received
    .map(
      (r) =>
        JSON.parse(r.body) as { action?: string; repository?: { name: string }; pull_request?: { merged: boolean } },
    )
    .filter((p) => p.repository?.name === repo)
    .map((p) => (p.action === 'closed' && p.pull_request?.merged === true ? 'merged' : p.action));

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answerStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
beforeEach(() => {
  answerStatus = 200;
});
afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('merging', () => {
  test('a merge commit on the base with the PR head as second parent; the PR closed and merged; webhook closed+merged', async () => {
    const { repo, path, head } = await repoWithPr();
    const merged = await call('PUT', `${path}/merge`, { merge_method: 'merge' });
    expect(merged.status).toBe(200);
    expect(merged.json).toMatchObject({ merged: true, message: 'Pull Request successfully merged' });
    const git = { cwd: sandbox.bareDir(OWNER, repo), home: sandbox.bareDir(OWNER, repo) };
    expect(await assertGit(['rev-parse', 'refs/heads/main'], git)).toBe(merged.json.sha);
    expect(await assertGit(['rev-parse', 'refs/heads/main^2'], git)).toBe(head);
    expect(await assertGit(['show', 'refs/heads/main:change.json'], git)).toBe('{"k": 2}');
    const pr = await call('GET', path);
    expect(pr.json).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merged.json.sha });
    expect(pr.json.merged_at).toEqual(pr.json.closed_at);

    await sandbox.webhooksSettled();
    expect(actionsOf(repo)).toEqual(['opened', 'merged']);
    expect(sandbox.validationFailures).toEqual([]);
  });

  test("squash: one commit on the base; GitHub's refusals: closed 405, rebase 405, stale sha 409, conflict 405", async () => {
    const { repo, path } = await repoWithPr();
    // A branch from the same base adding the same file differently: unmergeable once #1 landed.
    await pushBranch(sandbox, {
      owner: OWNER,
      repo,
      token: TOKEN,
      branch: 'relyloop/y',
      files: { 'change.json': '{"k": 3}\n' },
    });
    expect((await call('PUT', `${path}/merge`, { merge_method: 'rebase' })).json).toMatchObject({
      message: 'Rebase merges are not allowed on this repository.',
    });
    const stale = await call('PUT', `${path}/merge`, { sha: '0'.repeat(40) });
    expect(stale.status).toBe(409);
    const squashed = await call('PUT', `${path}/merge`, { merge_method: 'squash' });
    expect(squashed.status).toBe(200);
    const git = { cwd: sandbox.bareDir(OWNER, repo), home: sandbox.bareDir(OWNER, repo) };
    expect((await runGit(['rev-parse', '--verify', '--quiet', 'refs/heads/main^2'], git)).code).not.toBe(0);
    expect(await assertGit(['log', '-1', '--format=%s', 'refs/heads/main'], git)).toBe('Tune k (#1)');
    const again = await call('PUT', `${path}/merge`, {});
    expect(again.status).toBe(405);

    expect(
      (await call('POST', `/repos/${OWNER}/${repo}/pulls`, { head: 'relyloop/y', base: 'main', title: 'Conflicting' }))
        .status,
    ).toBe(201);
    const conflict = await call('PUT', `/repos/${OWNER}/${repo}/pulls/2/merge`, {});
    expect(conflict).toMatchObject({ status: 405, json: { message: 'Merge conflict' } });
    expect(sandbox.validationFailures).toEqual([]);
  });
});

describe('closing and reopening', () => {
  test('close and reopen are delivered in order; a merged PR cannot be reopened', async () => {
    const { repo, path } = await repoWithPr();
    expect((await call('PATCH', path, { state: 'closed' })).json).toMatchObject({ state: 'closed', merged: false });
    expect((await call('PATCH', path, { state: 'open' })).json).toMatchObject({ state: 'open', closed_at: null });
    expect((await call('PUT', `${path}/merge`, {})).status).toBe(200);
    const reopen = await call('PATCH', path, { state: 'open' });
    expect(reopen.status).toBe(422);
    await sandbox.webhooksSettled();
    expect(actionsOf(repo)).toEqual(['opened', 'closed', 'reopened', 'merged']);
    expect(sandbox.validationFailures).toEqual([]);
  });
});

describe('deliveries', () => {
  test("GitHub's headers, both signatures over the exact body, a GUID per delivery", async () => {
    const before = received.length;
    const { repo } = await repoWithPr();
    sandbox.pingWebhook(OWNER, repo);
    await sandbox.webhooksSettled();
    const mine = received.slice(before);
    expect(mine.map((r) => r.headers['x-github-event'])).toEqual(['pull_request', 'ping']);
    for (const r of mine) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
      expect(r.headers['x-github-delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(r.headers['x-github-hook-installation-target-type']).toBe('repository');
      expect(r.headers['x-hub-signature-256']).toBe(
        `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`,
      );
      expect(r.headers['x-hub-signature']).toBe(`sha1=${createHmac('sha1', SECRET).update(r.body).digest('hex')}`);
    }
    expect(new Set(mine.map((r) => r.headers['x-github-delivery'])).size).toBe(2);
    expect(sandbox.validationFailures).toEqual([]);
  });

  test('faults: a dropped delivery never arrives, a duplicate arrives twice with one id, a delayed one arrives after the next', async () => {
    const { repo, path } = await repoWithPr();
    await sandbox.webhooksSettled();
    sandbox.injectWebhookFaults(OWNER, repo, ['drop', 'duplicate', 'delay_until_next']);
    await call('PATCH', path, { state: 'closed' }); // dropped
    await call('PATCH', path, { state: 'open' }); // duplicated
    await call('PATCH', path, { state: 'closed' }); // delayed after the next
    await call('PATCH', path, { state: 'open' });
    await sandbox.webhooksSettled();
    expect(actionsOf(repo)).toEqual(['opened', 'reopened', 'reopened', 'reopened', 'closed']);
    const deliveries = sandbox.webhookDeliveries.filter((d) => d.repo === `${OWNER}/${repo}`);
    expect(deliveries.map((d) => [d.action, d.fault, d.statuses])).toEqual([
      ['opened', null, [200]],
      ['closed', 'drop', []],
      ['reopened', 'duplicate', [200, 200]],
      ['closed', 'delay_until_next', [200]],
      ['reopened', null, [200]],
    ]);

    // GitHub's "Redeliver": the same id and body again; the receiver's answer is recorded.
    answerStatus = 503;
    expect(await sandbox.redeliverWebhook((deliveries[1] as { id: string }).id)).toBe(503);
    expect(actionsOf(repo).at(-1)).toBe('closed');
  });
});

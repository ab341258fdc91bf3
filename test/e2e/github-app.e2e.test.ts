// A config repo that authenticates as a GitHub App, end to end: the API takes the App
// (id, private-key secret ref, no installation id), the run mints installation tokens inside its
// activities (clone, push, PR, comment), tokens that expire between runs are minted again, and
// neither the private key nor any installation token is anywhere: history, repo cache, requests
// bodies, logs, the proposal row.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { base64Forms, KEY_WINDOW } from '../../domain/redact.js';
import type { CredentialEcho } from '../../sandbox/types.js';
import { leakFormsOf, scanGitDir, scanHistory, scanTexts } from '../support/leak-scan.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { expectOnePrOpen } from '../support/pr-outcome.js';
import { git } from '../support/git-cli.js';

const APP_ID = 777001;
let h: OpenPrHarness;
let key = '';

async function openPr(s: Seeded): Promise<string> {
  const started = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(started.status).toBe(202);
  expect(await h.env.client.workflow.getHandle(started.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
  return started.body.workflow_id as string;
}

beforeAll(async () => {
  h = await startOpenPrHarness();
  key = h.sandbox.createApp(APP_ID).privateKeyPem;
  await writeFile(path.join(h.root, 'secrets', 'app_key'), key);
  await writeFile(path.join(h.root, 'secrets', 'not_a_key'), 'this is not a PEM key\n');
}, 120_000);
afterAll(async () => h?.close(), 60_000);

test('an App-authenticated repo opens its PRs; a token that expired is minted again; no key or token leaks', async () => {
  // The sandbox repo is created for a PAT nobody configures: only the App's tokens reach it.
  const first = await seedProposal(h, { token: `ghp_${'NotUsed0'.repeat(4)}xxxx` });
  h.sandbox.installApp({ appId: APP_ID, owner: OWNER, repo: first.repoName });
  const switched = await h.api('PATCH', `/config-repos/${first.configRepoId}`, {
    app: { app_id: APP_ID, private_key_ref: 'app_key' },
  });
  expect(switched).toMatchObject({
    status: 200,
    body: { auth_ref: null, app: { app_id: APP_ID, private_key_ref: 'app_key', installation_id: null } },
  });

  h.sandbox.setAppTokenTtl(5_000);
  const firstRun = await openPr(first);
  await expectOnePrOpen(h, first);
  const tokensAfterFirst = h.sandbox.appTokensIssued.length;
  expect(tokensAfterFirst).toBeGreaterThanOrEqual(1);

  // Past the token's expiry: the next run's steps mint a new one (the old one is refused now).
  h.sandbox.clock.advance(5_500);
  const second = await seedProposal(h, { reuse: first });
  const secondRun = await openPr(second);
  await expectOnePrOpen(h, second);
  expect(h.sandbox.appTokensIssued.length).toBeGreaterThan(tokensAfterFirst);
  h.sandbox.setAppTokenTtl(3_600_000);

  // Everything the service wrote or sent, scanned for the key and for every token issued.
  const needles = [key, ...key.split('\n').filter((l) => l.length > 40), ...h.sandbox.appTokensIssued].flatMap((s) =>
    leakFormsOf(s, base64Forms),
  );
  const rows = await h.db.sql.query('SELECT * FROM proposals WHERE id = ANY($1::uuid[])', [
    [first.proposalId, second.proposalId],
  ]);
  const scans = {
    history: scanHistory(
      {
        events: [
          ...((await h.env.client.workflow.getHandle(firstRun).fetchHistory()).events ?? []),
          ...((await h.env.client.workflow.getHandle(secondRun).fetchHistory()).events ?? []),
        ],
      },
      needles,
    ),
    cache: await scanGitDir(path.join(h.config.repoCacheDir, first.configRepoId), needles),
    texts: scanTexts(
      {
        requests: h.sandbox.requests.map((r) => r.body).join('\n'),
        logs: h.logs.join('\n'),
        rows: JSON.stringify(rows),
      },
      needles,
    ),
  };
  for (const [where, scan] of Object.entries(scans))
    expect({ where, hits: scan.hits, looked: scan.looked > 0 }).toEqual({ where, hits: [], looked: true });
  expect(h.sandbox.validationFailures).toEqual([]);
}, 120_000);

test('verified commits: GitHub builds and signs the commit (the App is its author); exactly the params change and the PNG, create-only', async () => {
  const s = await seedProposal(h, { token: `ghp_${'NotUsed1'.repeat(4)}xxxx` });
  h.sandbox.installApp({ appId: APP_ID, owner: OWNER, repo: s.repoName });
  const refused = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { pr_options: { verified_commits: true } });
  expect(refused).toMatchObject({
    status: 422,
    body: { detail: { error_code: 'VALIDATION_ERROR', field: 'pr_options.verified_commits' } },
  });
  const set = await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
    app: { app_id: APP_ID, private_key_ref: 'app_key' },
    pr_options: { verified_commits: true },
  });
  expect(set).toMatchObject({ status: 200, body: { pr_options: { verified_commits: true }, app: { app_id: APP_ID } } });

  const pushesBefore = h.sandbox.requests.filter((r) => r.path.endsWith('/git-receive-pack')).length;
  await openPr(s);
  await expectOnePrOpen(h, s); // one commit on main: exactly the params file and the PNG (native git)
  const branch = `relyloop/study-${s.studyId}`;
  const bare = h.sandbox.bareDir(OWNER, s.repoName);
  const tip = await git(bare, 'rev-parse', `refs/heads/${branch}`);
  expect(h.sandbox.isVerifiedCommit(OWNER, s.repoName, tip)).toBe(true);
  expect(await git(bare, 'log', '-1', '--format=%an|%cn', tip)).toBe(`app-${APP_ID}[bot]|GitHub`);
  expect(await git(bare, 'log', '-1', '--format=%B', tip)).toContain(`RelyLoop-Proposal: ${s.proposalId}`);
  // Built through the API: nothing was pushed over git, and no request moved an existing ref.
  expect(h.sandbox.requests.filter((r) => r.path.endsWith('/git-receive-pack')).length).toBe(pushesBefore);
  expect(h.sandbox.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/git/refs/'))).toEqual([]);
  expect(h.sandbox.validationFailures).toEqual([]);
}, 90_000);

test('an unusable App key: 400 at registration when missing, 503 GITHUB_NOT_CONFIGURED at open_pr when not a key', async () => {
  const s = await seedProposal(h, { study: false });
  const missing = await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
    app: { app_id: APP_ID, private_key_ref: 'no_such_key' },
  });
  expect(missing).toMatchObject({
    status: 400,
    body: { detail: { error_code: 'AUTH_REF_NOT_FOUND', message: expect.stringContaining('app.private_key_ref') } },
  });
  const both = await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
    auth_ref: 'gh_acme',
    app: { app_id: APP_ID, private_key_ref: 'app_key' },
  });
  expect(both).toMatchObject({ status: 422, body: { detail: { error_code: 'VALIDATION_ERROR' } } });
  expect(
    (await h.api('PATCH', `/config-repos/${s.configRepoId}`, { app: { app_id: APP_ID, private_key_ref: 'not_a_key' } }))
      .status,
  ).toBe(200);
  const refused = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(refused).toMatchObject({
    status: 503,
    body: { detail: { error_code: 'GITHUB_NOT_CONFIGURED', message: expect.stringContaining('PEM private key') } },
  });
  // Back to a token file: the App is cleared.
  expect((await h.api('PATCH', `/config-repos/${s.configRepoId}`, { auth_ref: 'gh_acme' })).body).toMatchObject({
    auth_ref: 'gh_acme',
    app: null,
  });
}, 60_000);

describe('a server echoing what the App signs, or quoting its key: redacted on every surface', () => {
  const ACCESS_TOKENS = /^\/api\/v3\/app\/installations\/\d+\/access_tokens$/;
  let nextAppId = APP_ID + 100;

  /** A repo authenticated by an App of its own with its installation id configured: its first step mints. */
  async function appRepo(): Promise<{ s: Seeded; pem: string }> {
    const appId = nextAppId++;
    const pem = h.sandbox.createApp(appId).privateKeyPem;
    await writeFile(path.join(h.root, 'secrets', `app_key_${appId}`), pem);
    const s = await seedProposal(h, { token: `ghp_${'NotUsed2'.repeat(4)}xxxx` });
    const installationId = h.sandbox.installApp({ appId, owner: OWNER, repo: s.repoName });
    const set = await h.api('PATCH', `/config-repos/${s.configRepoId}`, {
      app: { app_id: appId, private_key_ref: `app_key_${appId}`, installation_id: installationId },
    });
    expect(set.status).toBe(200);
    return { s, pem };
  }

  /** Runs open_pr; the workflow id and how it ended. */
  async function run(s: Seeded): Promise<{ workflowId: string; outcome: unknown }> {
    const started = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    expect(started.status).toBe(202);
    const outcome = await h.env.client.workflow
      .getHandle(started.body.workflow_id)
      .result()
      .catch((e: unknown) => e);
    return { workflowId: started.body.workflow_id as string, outcome };
  }

  /** Zero hits of `needles` on the proposal row, both API answers, the decoded history and the logs. */
  async function expectNowhere(s: Seeded, workflowId: string, needles: string[]): Promise<void> {
    const [row] = await h.db.sql.query<{ pr_open_error: string | null }>(
      'SELECT pr_open_error FROM proposals WHERE id = $1',
      [s.proposalId],
    );
    const texts = scanTexts(
      {
        pr_open_error: row?.pr_open_error ?? '',
        'GET /proposals/{id}': JSON.stringify((await h.api('GET', `/proposals/${s.proposalId}`)).body),
        'GET /proposals/{id}/open_pr': JSON.stringify((await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body),
        logs: h.logs.join('\n'),
      },
      needles,
    );
    const history = scanHistory(await h.env.client.workflow.getHandle(workflowId).fetchHistory(), needles);
    expect({ texts: texts.hits, history: history.hits }).toEqual({ texts: [], history: [] });
    expect([texts.looked >= 3, history.looked > 0]).toEqual([true, true]);
  }

  /** The JWTs the sandbox received at the token exchange since request number `from`. */
  const jwtsSince = (from: number) =>
    h.sandbox.requests
      .slice(from)
      .filter((r) => ACCESS_TOKENS.test(r.path))
      .map((r) => /^bearer\s+(\S+)$/i.exec(r.headers.authorization ?? '')?.[1] as string);

  test('the token exchange answers 500 three times echoing the JWT (credential= base64, raw, header base64); the run opens its PR', async () => {
    const { s } = await appRepo();
    const from = h.sandbox.requests.length;
    h.sandbox.injectFaults({
      method: 'POST',
      path: ACCESS_TOKENS,
      faults: (<CredentialEcho[]>[true, 'raw', 'header_base64']).map((echo) => ({ status: 500, echoCredential: echo })),
    });
    const { workflowId, outcome } = await run(s);
    expect(outcome).toMatchObject({ outcome: 'opened' });
    await expectOnePrOpen(h, s);
    const jwts = jwtsSince(from);
    expect(
      h.sandbox.requests
        .slice(from)
        .filter((r) => ACCESS_TOKENS.test(r.path))
        .map((r) => r.status),
    ).toEqual([500, 500, 500, 201]);
    // The failures were seen (GET open_pr keeps the step's failed attempts) and redacted.
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(JSON.stringify(view.body)).toContain('[REDACTED-GH-TOKEN]');
    await expectNowhere(
      s,
      workflowId,
      jwts.flatMap((jwt) => leakFormsOf(jwt, base64Forms)),
    );
  }, 90_000);

  test.each(<[string, CredentialEcho][]>[
    ['credential= base64', true],
    ['raw', 'raw'],
    ['header base64', 'header_base64'],
  ])(
    'the token exchange answers 401 echoing the JWT (%s): GITHUB_AUTH_FAILED, redacted',
    async (_name, echo) => {
      const { s } = await appRepo();
      const from = h.sandbox.requests.length;
      h.sandbox.injectFaults({ method: 'POST', path: ACCESS_TOKENS, faults: [{ status: 401, echoCredential: echo }] });
      const { workflowId, outcome } = await run(s);
      expect(outcome).toBeInstanceOf(WorkflowFailedError);
      const [row] = await h.db.sql.query<{ pr_open_error: string }>(
        'SELECT pr_open_error FROM proposals WHERE id = $1',
        [s.proposalId],
      );
      expect(row?.pr_open_error).toMatch(/^GITHUB_AUTH_FAILED: .*\[REDACTED-GH-TOKEN\]/);
      const jwts = jwtsSince(from);
      expect(jwts).toHaveLength(1);
      await expectNowhere(
        s,
        workflowId,
        jwts.flatMap((jwt) => leakFormsOf(jwt, base64Forms)),
      );
    },
    60_000,
  );

  test('the token exchange answers 401 quoting two lines of the private key: GITHUB_AUTH_FAILED, no fragment of the key stored or shown', async () => {
    const { s, pem } = await appRepo();
    const lines = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    const quoted = `${lines[5]}\n${lines[6]}`;
    h.sandbox.injectFaults({
      method: 'POST',
      path: ACCESS_TOKENS,
      faults: [
        {
          status: 401,
          body: {
            message: `Integration key does not match: ${quoted}`,
            documentation_url: 'https://docs.github.com/rest',
          },
        },
      ],
    });
    const { workflowId, outcome } = await run(s);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const [row] = await h.db.sql.query<{ pr_open_error: string }>('SELECT pr_open_error FROM proposals WHERE id = $1', [
      s.proposalId,
    ]);
    expect(row?.pr_open_error).toMatch(/^GITHUB_AUTH_FAILED: .*Integration key does not match: \[REDACTED-GH-TOKEN\]/);
    // Each quoted line, in every form, and each window of them wherever it starts.
    const body = `${lines[5]}${lines[6]}`;
    const windows = Array.from({ length: body.length - KEY_WINDOW + 1 }, (_, i) => body.slice(i, i + KEY_WINDOW));
    await expectNowhere(s, workflowId, [
      ...[lines[5], lines[6]].flatMap((l) => leakFormsOf(l as string, base64Forms)),
      ...windows,
    ]);
  }, 60_000);
});

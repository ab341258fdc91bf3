// A config repo that authenticates as a GitHub App (issue 14), end to end: the API takes the App
// (id, private-key secret ref, no installation id), the run mints installation tokens inside its
// activities (clone, push, PR, comment), tokens that expire between runs are minted again, and
// neither the private key nor any installation token is anywhere: history, repo cache, requests
// bodies, logs, the proposal row.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { base64Forms } from '../../domain/redact.js';
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
  const switched = await h.api('PATCH', `/config-repos/${first.configRepoId}`, { app: { app_id: APP_ID, private_key_ref: 'app_key' } });
  expect(switched).toMatchObject({ status: 200, body: { auth_ref: null, app: { app_id: APP_ID, private_key_ref: 'app_key', installation_id: null } } });

  h.sandbox.setAppTokenTtl(5_000);
  const firstRun = await openPr(first);
  await expectOnePrOpen(h, first);
  const tokensAfterFirst = h.sandbox.appTokensIssued.length;
  expect(tokensAfterFirst).toBeGreaterThanOrEqual(1);

  // Past the token's expiry: the next run's steps mint a new one (the old one is refused now).
  await new Promise((r) => setTimeout(r, 5_500));
  const second = await seedProposal(h, { reuse: first });
  const secondRun = await openPr(second);
  await expectOnePrOpen(h, second);
  expect(h.sandbox.appTokensIssued.length).toBeGreaterThan(tokensAfterFirst);
  h.sandbox.setAppTokenTtl(3_600_000);

  // Everything the service wrote or sent, scanned for the key and for every token issued.
  const needles = [key, ...key.split('\n').filter((l) => l.length > 40), ...h.sandbox.appTokensIssued].flatMap((s) => leakFormsOf(s, base64Forms));
  const rows = await h.db.sql.query('SELECT * FROM proposals WHERE id = ANY($1::uuid[])', [[first.proposalId, second.proposalId]]);
  const scans = {
    history: scanHistory({ events: [...((await h.env.client.workflow.getHandle(firstRun).fetchHistory()).events ?? []), ...((await h.env.client.workflow.getHandle(secondRun).fetchHistory()).events ?? [])] }, needles),
    cache: await scanGitDir(path.join(h.config.repoCacheDir, first.configRepoId), needles),
    texts: scanTexts({ requests: h.sandbox.requests.map((r) => r.body).join('\n'), logs: h.logs.join('\n'), rows: JSON.stringify(rows) }, needles),
  };
  for (const [where, scan] of Object.entries(scans)) expect({ where, hits: scan.hits, looked: scan.looked > 0 }).toEqual({ where, hits: [], looked: true });
  expect(h.sandbox.validationFailures).toEqual([]);
}, 120_000);

test('verified commits: GitHub builds and signs the commit (the App is its author); exactly the params change and the PNG, create-only', async () => {
  const s = await seedProposal(h, { token: `ghp_${'NotUsed1'.repeat(4)}xxxx` });
  h.sandbox.installApp({ appId: APP_ID, owner: OWNER, repo: s.repoName });
  const refused = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { pr_options: { verified_commits: true } });
  expect(refused).toMatchObject({ status: 422, body: { detail: { error_code: 'VALIDATION_ERROR', field: 'pr_options.verified_commits' } } });
  const set = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { app: { app_id: APP_ID, private_key_ref: 'app_key' }, pr_options: { verified_commits: true } });
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
  const missing = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { app: { app_id: APP_ID, private_key_ref: 'no_such_key' } });
  expect(missing).toMatchObject({ status: 400, body: { detail: { error_code: 'AUTH_REF_NOT_FOUND', message: expect.stringContaining('app.private_key_ref') } } });
  const both = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { auth_ref: 'gh_acme', app: { app_id: APP_ID, private_key_ref: 'app_key' } });
  expect(both).toMatchObject({ status: 422, body: { detail: { error_code: 'VALIDATION_ERROR' } } });
  expect((await h.api('PATCH', `/config-repos/${s.configRepoId}`, { app: { app_id: APP_ID, private_key_ref: 'not_a_key' } })).status).toBe(200);
  const refused = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(refused).toMatchObject({ status: 503, body: { detail: { error_code: 'GITHUB_NOT_CONFIGURED', message: expect.stringContaining('PEM private key') } } });
  // Back to a token file: the App is cleared.
  expect((await h.api('PATCH', `/config-repos/${s.configRepoId}`, { auth_ref: 'gh_acme' })).body).toMatchObject({ auth_ref: 'gh_acme', app: null });
}, 60_000);

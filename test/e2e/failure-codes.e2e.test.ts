// Every workflow failure code of docs/architecture.md "Error codes" through a real run: HTTP API → Temporal →
// workers with the production activities → the GitHub sandbox, with GitHub's own answers where
// the sandbox models them (access, permissions, declined pushes) and injected ones only where a
// server fault is the point. One run per code: the failure chain carries the code, the proposal
// row keeps `pending` with `pr_open_error` starting with it, the lock is free, no PR exists.
// Retry budgets are short here (10 s, the shortest allowed) so exhausted transient failures end in seconds.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { WorkflowErrorCode } from '../../domain/errors.js';
import { OPEN_PR_WORKFLOW, progressQuery } from '../../domain/open-pr-contracts.js';
import { openPrWorkflowId } from '../../domain/workflow-ids.js';
import { base64Forms } from '../../domain/redact.js';
import { pushBranch } from '../../sandbox/branches.js';
import { git, tryRevParse } from '../support/git-cli.js';
import { leakFormsOf, scanGitDir, scanHistory, scanTexts } from '../support/leak-scan.js';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { PARAMS_PATH, PARAMS_TEXT, seedProposal, type SeedOptions, type Seeded } from '../support/open-pr-fixtures.js';
import { expectOnePrOpen, lockHolderOf } from '../support/pr-outcome.js';
import { waitUntil } from '../support/wait.js';

// A credential of no GitHub token pattern: only the literal registration can redact it.
const PLAIN_TOKEN = 'plain-sandbox-credential-5d0e8c21b7';

let h: OpenPrHarness;
beforeAll(async () => {
  h = await startOpenPrHarness({
    env: { RELYLOOP_GIT_RETRY_BUDGET: '10s', RELYLOOP_GITHUB_RETRY_BUDGET: '10s' },
    // Rate-limit waits above 1 s surface as nextRetryDelay instead of an in-process sleep.
    activityOverrides: { githubLimiter: { writeMinTimeMs: 0 } },
  });
  await writeFile(path.join(h.config.secretsDir, 'gh_plain'), `${PLAIN_TOKEN}\n`);
  // A token the sandbox (GitHub) has never issued.
  await writeFile(path.join(h.config.secretsDir, 'gh_unknown'), 'ghs_neverIssuedByGitHub0123456789abcdefgh\n');
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const post = (s: Seeded) => h.api('POST', `/proposals/${s.proposalId}/open_pr`);
const row = (s: Seeded) => h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } });
const branchOf = (s: Seeded) =>
  s.studyId === null ? `relyloop/proposal-${s.proposalId}` : `relyloop/study-${s.studyId}`;
const handleOf = (workflowId: string) => h.env.client.workflow.getHandle(workflowId);

/** The failure chain below WorkflowFailedError, as `ActivityFailure` / `ApplicationFailure:TYPE` / … */
function chainOf(error: unknown): string[] {
  const out: string[] = [];
  for (let e = (error as { cause?: unknown }).cause; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    out.push(
      e instanceof ActivityFailure
        ? 'ActivityFailure'
        : e instanceof ApplicationFailure
          ? `ApplicationFailure:${e.type}`
          : e instanceof TimeoutFailure
            ? 'TimeoutFailure'
            : e.constructor.name,
    );
  }
  return out;
}

/**
 * The run failed with `code` and left things as a user expects: WorkflowFailedError →
 * ApplicationFailure(code, "CODE: …") → ActivityFailure → the step's ApplicationFailure, which is
 * the code itself, or `CODE_TRANSIENT` for a transient failure that outlasted its budget.
 */
async function expectFailedWith(
  s: Seeded,
  workflowId: string,
  code: WorkflowErrorCode,
  opts: { exhausted?: boolean; message?: RegExp } = {},
): Promise<string> {
  const error = await handleOf(workflowId)
    .result()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  // The run's own failure leads with the code (what the Web UI shows first), the step's below it.
  const chain = chainOf(error);
  expect(chain[0]).toBe(`ApplicationFailure:${code}`);
  expect((error as WorkflowFailedError).cause?.message).toMatch(new RegExp(`^${code}: `));
  const below = opts.exhausted ? [`ApplicationFailure:${code}_TRANSIENT`] : [`ApplicationFailure:${code}`];
  expect(chain.slice(1).filter((x) => x !== 'TimeoutFailure')).toEqual(['ActivityFailure', ...below]);
  const stored = await row(s);
  expect(stored.status).toBe('pending');
  expect(stored.prOpenError?.startsWith(`${code}: `)).toBe(true);
  if (opts.message) expect(stored.prOpenError).toMatch(opts.message);
  await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 10_000);
  expect(h.sandbox.pulls(OWNER, s.repoName).filter((p) => p.head.ref === branchOf(s) && p.state === 'open')).toEqual(
    [],
  );
  // Triage: the run keeps the step it failed at and names its code, and a list query finds it.
  const attributes = (await handleOf(workflowId).describe()).searchAttributes;
  expect(attributes.OpenPrErrorCode).toEqual([code]);
  expect(attributes.OpenPrStep).not.toEqual(['release']);
  // …and so does the API's view of it: the step that failed, not the release after it.
  const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
  expect(view.body.current_step).toEqual(attributes.OpenPrStep?.[0]);
  expect(view.body.steps.find((x: { step: string }) => x.step === view.body.current_step)?.status).toBe('failed');
  await waitUntil(
    `a list query by OpenPrErrorCode=${code} finds the run`,
    async () => {
      const found: string[] = [];
      for await (const w of h.env.client.workflow.list({
        query: `OpenPrErrorCode = '${code}' AND ProposalId = '${s.proposalId}'`,
      }))
        found.push(w.workflowId);
      return found.length === 1 && found[0] === workflowId;
    },
    10_000,
  );
  return stored.prOpenError ?? '';
}

interface FailureCase {
  code: WorkflowErrorCode;
  seed?: SeedOptions;
  /** Arranges the failure once the proposal is seeded. */
  arrange?: (s: Seeded) => Promise<void> | void;
  exhausted?: boolean;
  message: RegExp;
}

const revoke = (s: Seeded, permissions: Parameters<OpenPrHarness['sandbox']['grantAccess']>[0]['permissions']) =>
  h.sandbox.grantAccess({ owner: OWNER, repo: s.repoName, token: GH_TOKEN, permissions });

const CASES: Record<string, FailureCase> = {
  'PARAM_NOT_IN_TEMPLATE: a diff key the template does not declare': {
    code: 'PARAM_NOT_IN_TEMPLATE',
    seed: { declaredParams: ['field_boosts.title'] },
    message: /bm25\.k1/,
  },
  'PARAMS_FILE_NOT_FOUND: no params file at config_path': {
    code: 'PARAMS_FILE_NOT_FOUND',
    seed: { files: { 'README.md': '# nothing here\n' } },
    message: /search\.params\.json/,
  },
  'PARAMS_FILE_NOT_FOUND: the params file is not a JSON object': {
    code: 'PARAMS_FILE_NOT_FOUND',
    seed: { files: { [PARAMS_PATH]: '[1, 2]\n' } },
    message: /object/i,
  },
  'CONFIG_PATH_INVALID: the params file is a symlink': {
    code: 'CONFIG_PATH_INVALID',
    seed: { files: { [PARAMS_PATH]: { symlink: 'real.json' }, 'clusters/prod/real.json': PARAMS_TEXT } },
    message: /symlink/i,
  },
  "BRANCH_EXISTS: someone else's branch has the name": {
    code: 'BRANCH_EXISTS',
    arrange: async (s) => {
      await pushBranch(h.sandbox, {
        owner: OWNER,
        repo: s.repoName,
        token: GH_TOKEN,
        branch: branchOf(s),
        files: { 'x.txt': 'x\n' },
      });
    },
    message: /already exists/,
  },
  'BRANCH_PROTECTED: a ruleset declines the push': {
    code: 'BRANCH_PROTECTED',
    arrange: (s) => h.sandbox.setPushRules(OWNER, s.repoName, [{ kind: 'ruleset', pattern: 'relyloop/*' }]),
    message: /GH013: Repository rule violations found .*Cannot create ref due to creations being restricted/,
  },
  'CLONE_FAILED: pr_base_branch does not exist': {
    code: 'CLONE_FAILED',
    arrange: async (s) => {
      expect((await h.api('PATCH', `/config-repos/${s.configRepoId}`, { pr_base_branch: 'release' })).status).toBe(200);
    },
    message: /release|not found/i,
  },
  'CLONE_FAILED: the git server fails past the retry budget (exhausted transient)': {
    code: 'CLONE_FAILED',
    exhausted: true,
    arrange: (s) =>
      h.sandbox.injectFaults({
        path: new RegExp(`^/${OWNER}/${s.repoName}\\.git/`),
        faults: Array.from({ length: 200 }, () => ({ status: 502 })),
      }),
    message: /502/,
  },
  'GITHUB_AUTH_FAILED: the token cannot see the repository (404, clone)': {
    code: 'GITHUB_AUTH_FAILED',
    arrange: (s) => revoke(s, null),
    message: /does not exist or the token cannot see it/,
  },
  'GITHUB_AUTH_FAILED: the token may read but not push (403, push)': {
    code: 'GITHUB_AUTH_FAILED',
    arrange: (s) => revoke(s, { contents: 'read', pull_requests: 'write', issues: 'write' }),
    message: /may read the repository but not push/,
  },
  'GITHUB_AUTH_FAILED: the token lacks pull_requests: write (403, open PR)': {
    code: 'GITHUB_AUTH_FAILED',
    arrange: (s) => revoke(s, { contents: 'write', pull_requests: 'read', issues: 'write' }),
    message: /Resource not accessible by integration.*lacks a permission/,
  },
  'GITHUB_AUTH_FAILED: an unknown token (401)': {
    code: 'GITHUB_AUTH_FAILED',
    seed: { authRef: 'gh_unknown' },
    message: /invalid, expired or revoked/,
  },
  'GITHUB_API_FAILED: GitHub refuses the PR (422)': {
    code: 'GITHUB_API_FAILED',
    arrange: (s) =>
      h.sandbox.injectFaults({
        method: 'POST',
        path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
        faults: [
          {
            status: 422,
            body: {
              message: 'Validation Failed',
              errors: [{ resource: 'PullRequest', code: 'custom', message: 'base is locked' }],
            },
          },
        ],
      }),
    message: /422/,
  },
  'GITHUB_API_FAILED: GitHub fails past the retry budget (exhausted transient)': {
    code: 'GITHUB_API_FAILED',
    exhausted: true,
    arrange: (s) =>
      h.sandbox.injectFaults({
        method: 'POST',
        path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
        faults: Array.from({ length: 200 }, () => ({ status: 502 })),
      }),
    message: /502/,
  },
};

describe('every workflow failure code, one run each', () => {
  test.each(Object.entries(CASES))(
    '%s',
    async (_label, c) => {
      const s = await seedProposal(h, c.seed);
      await c.arrange?.(s);
      const res = await post(s);
      expect(res.status).toBe(202);
      const stored = await expectFailedWith(s, res.body.workflow_id, c.code, {
        exhausted: c.exhausted,
        message: c.message,
      });
      for (const form of leakFormsOf(GH_TOKEN, base64Forms)) expect(stored).not.toContain(form);
      h.sandbox.clearFaults();
    },
    90_000,
  );
});

describe('failure and recovery around the steps', () => {
  test('step 6 adopts our own commit from a failed run: the re-run skips commit and push and opens the PR', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: [{ status: 422, body: { message: 'Validation Failed' } }],
    });
    const first = await post(s);
    await expectFailedWith(s, first.body.workflow_id, 'GITHUB_API_FAILED');
    const tip = await tryRevParse(h.sandbox.bareDir(OWNER, s.repoName), `refs/heads/${branchOf(s)}`);
    expect(tip).toMatch(/^[0-9a-f]{40}$/);
    const pushesBefore = h.sandbox.requests.filter(
      (r) => r.path === `/${OWNER}/${s.repoName}.git/git-receive-pack`,
    ).length;

    const second = await post(s);
    expect(second.body.workflow_id).not.toBe(first.body.workflow_id);
    expect(await handleOf(second.body.workflow_id).result()).toMatchObject({ outcome: 'opened', adoptedPr: false });
    const progress = await handleOf(second.body.workflow_id).query(progressQuery);
    const status = (step: string) => progress.steps.find((x) => x.step === step);
    expect(status('branch_check')).toMatchObject({
      status: 'completed',
      note: expect.stringContaining(`adopting our earlier commit ${tip?.slice(0, 12)}`),
    });
    expect(status('commit')).toMatchObject({ status: 'skipped' });
    expect(status('push')).toMatchObject({ status: 'skipped' });
    expect(h.sandbox.requests.filter((r) => r.path === `/${OWNER}/${s.repoName}.git/git-receive-pack`)).toHaveLength(
      pushesBefore,
    );
    expect(await tryRevParse(h.sandbox.bareDir(OWNER, s.repoName), `refs/heads/${branchOf(s)}`)).toBe(tip);
    await expectOnePrOpen(h, s);
  }, 90_000);

  test('step 13 failing does not fail the run: the PR is open and recorded, the comment step shows the failure', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`/repos/${OWNER}/${s.repoName}/issues/\\d+/comments$`),
      faults: [{ status: 422, body: { message: 'Validation Failed' } }],
    });
    const res = await post(s);
    expect(await handleOf(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    const outcome = await expectOnePrOpen(h, s);
    expect(outcome.comments).toBe(0);
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body).toMatchObject({ status: 'completed', failure: null });
    expect(view.body.steps.find((x: { step: string }) => x.step === 'comment')).toMatchObject({
      status: 'failed',
      last_failure: expect.stringContaining('422'),
    });
  }, 90_000);

  test('a terminal failure after the operator rejected never overwrites the rejection', async () => {
    const s = await seedProposal(h);
    // The push waits at the sandbox while the operator rejects; then a ruleset declines it.
    const held = h.sandbox.holdNext({
      method: 'POST',
      path: new RegExp(`^/${OWNER}/${s.repoName}\\.git/git-receive-pack$`),
      when: 'before',
    });
    const res = await post(s);
    await held.reached;
    expect((await h.api('POST', `/proposals/${s.proposalId}/reject`, { reason: 'not this one' })).status).toBe(200);
    await h.sandbox.setPushRules(OWNER, s.repoName, [{ kind: 'ruleset', pattern: 'relyloop/*' }]);
    held.release();
    const error = await handleOf(res.body.workflow_id)
      .result()
      .catch((e: unknown) => e);
    expect(chainOf(error)).toEqual([
      'ApplicationFailure:BRANCH_PROTECTED',
      'ActivityFailure',
      'ApplicationFailure:BRANCH_PROTECTED',
    ]);
    expect(await row(s)).toMatchObject({ status: 'rejected', rejectedReason: 'not this one', prOpenError: null });
    await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 10_000);
  }, 90_000);

  test('a reject during sync stops the run at once: no branch and no PR are ever created', async () => {
    const s = await seedProposal(h);
    // The run's first clone waits at the sandbox while the operator rejects.
    const held = h.sandbox.holdNext({
      method: 'GET',
      path: new RegExp(`^/${OWNER}/${s.repoName}\\.git/info/refs$`),
      when: 'before',
    });
    const res = await post(s);
    await held.reached;
    expect((await handleOf(res.body.workflow_id).query(progressQuery)).currentStep).toBe('sync');
    expect((await h.api('POST', `/proposals/${s.proposalId}/reject`, { reason: 'changed my mind' })).status).toBe(200);
    // The run ends while its clone request is still held: the signal cancelled the sync.
    expect(await handleOf(res.body.workflow_id).result()).toEqual({ outcome: 'rejected_meanwhile' });
    expect(
      (await handleOf(res.body.workflow_id).query(progressQuery)).steps.find((x) => x.step === 'sync')?.status,
    ).toBe('cancelled');
    held.release();
    await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 10_000);
    const touched = h.sandbox.requests.filter((r) => r.path.includes(`/${s.repoName}`));
    expect(
      touched.filter((r) => r.path.endsWith('/git-receive-pack') || r.query.service === 'git-receive-pack'),
    ).toEqual([]);
    expect(touched.filter((r) => r.method !== 'GET' && !r.path.endsWith('/git-upload-pack'))).toEqual([]);
    expect(await tryRevParse(h.sandbox.bareDir(OWNER, s.repoName), `refs/heads/${branchOf(s)}`)).toBeUndefined();
    expect(h.sandbox.pulls(OWNER, s.repoName)).toEqual([]);
    expect(await row(s)).toMatchObject({
      status: 'rejected',
      rejectedReason: 'changed my mind',
      prOpenError: null,
      prNumber: null,
    });
  }, 90_000);

  test('a failure in load is recorded like any other: pr_open_error, its code on the run, the step load', async () => {
    const s = await seedProposal(h);
    // The config repo is unlinked after the POST's checks would have passed: only load can see it.
    await h.db.prisma.cluster.update({ where: { id: s.clusterId }, data: { configRepoId: null } });
    const workflowId = openPrWorkflowId(s.proposalId, null);
    await h.env.client.workflow.start(OPEN_PR_WORKFLOW, {
      workflowId,
      taskQueue: h.config.temporalTaskQueue,
      args: [{ proposalId: s.proposalId }],
    });
    const error = (await handleOf(workflowId)
      .result()
      .catch((e: unknown) => e)) as WorkflowFailedError;
    expect(chainOf(error)).toEqual([
      'ApplicationFailure:CLUSTER_HAS_NO_CONFIG_REPO',
      'ActivityFailure',
      'ApplicationFailure:CLUSTER_HAS_NO_CONFIG_REPO',
    ]);
    expect(error.cause?.message).toMatch(/^CLUSTER_HAS_NO_CONFIG_REPO: cluster .* has no config repo/);
    expect((await row(s)).prOpenError).toMatch(/^CLUSTER_HAS_NO_CONFIG_REPO: /);
    const attributes = (await handleOf(workflowId).describe()).searchAttributes;
    expect(attributes).toMatchObject({ OpenPrStep: ['load'], OpenPrErrorCode: ['CLUSTER_HAS_NO_CONFIG_REPO'] });
    expect((await handleOf(workflowId).query(progressQuery)).steps.find((x) => x.step === 'release')?.status).toBe(
      'pending',
    );
  }, 90_000);

  test('a long Retry-After becomes nextRetryDelay in the history (no worker slot held while waiting)', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: [{ status: 429, headers: { 'retry-after': '3' }, body: { message: 'Too Many Requests' } }],
    });
    const res = await post(s);
    expect(await handleOf(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    const history = await handleOf(res.body.workflow_id).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openPullRequest',
    );
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(scheduled?.eventId),
    );
    const attrs = started?.activityTaskStartedEventAttributes;
    expect(attrs?.attempt).toBe(2);
    expect(attrs?.lastFailure?.applicationFailureInfo).toMatchObject({
      type: 'GITHUB_API_FAILED_TRANSIENT',
      nonRetryable: false,
    });
    expect(Number(String(attrs?.lastFailure?.applicationFailureInfo?.nextRetryDelay?.seconds))).toBe(3);
    // Only one in-process attempt saw the 429: the wait happened in Temporal, not in a worker.
    expect(
      h.sandbox.requests
        .filter((r) => r.method === 'POST' && r.path === `/api/v3/repos/${OWNER}/${s.repoName}/pulls`)
        .map((r) => r.status),
    ).toEqual([429, 201]);
    await expectOnePrOpen(h, s);
  }, 90_000);

  test('a 422 "head invalid" while GitHub lags the push is retried briefly, then the PR opens', async () => {
    const s = await seedProposal(h);
    h.sandbox.setConsistencyLag(OWNER, s.repoName, 1_500);
    const res = await post(s);
    expect(await handleOf(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    const statuses = h.sandbox.requests
      .filter((r) => r.method === 'POST' && r.path === `/api/v3/repos/${OWNER}/${s.repoName}/pulls`)
      .map((r) => r.status);
    expect(statuses.at(-1)).toBe(201);
    expect(statuses.slice(0, -1).length).toBeGreaterThan(0);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([422]));
    await expectOnePrOpen(h, s);
  }, 90_000);
});

describe('a token that matches no GitHub pattern never leaks', () => {
  test('echoed by git and REST servers, base64-encoded, it is redacted on every surface; the scans looked at everything', async () => {
    const ok = await seedProposal(h, { authRef: 'gh_plain', token: PLAIN_TOKEN });
    const okRes = await post(ok);
    expect(await handleOf(okRes.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });

    const echoing = await seedProposal(h, { authRef: 'gh_plain', token: PLAIN_TOKEN });
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${echoing.repoName}/pulls$`),
      faults: [{ status: 422, echoCredential: true }],
    });
    const failedRes = await post(echoing);
    const stored = await expectFailedWith(echoing, failedRes.body.workflow_id, 'GITHUB_API_FAILED', {
      message: /\[REDACTED-GH-TOKEN\]/,
    });
    expect(stored).not.toMatch(/ghp_|github_pat_/); // nothing else to catch it: the literal did

    const forms = leakFormsOf(PLAIN_TOKEN, base64Forms);
    const texts: Record<string, string> = { logs: h.logs.join('\n'), pr_open_error: stored };
    for (const s of [ok, echoing]) {
      texts[`row ${s.proposalId}`] = JSON.stringify(await row(s));
      texts[`GET proposal ${s.proposalId}`] = JSON.stringify((await h.api('GET', `/proposals/${s.proposalId}`)).body);
      texts[`GET open_pr ${s.proposalId}`] = JSON.stringify(
        (await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body,
      );
    }
    texts['PR titles, bodies and comments'] = JSON.stringify([
      h.sandbox.pulls(OWNER, ok.repoName),
      h.sandbox.comments(OWNER, ok.repoName, 1),
    ]);
    texts['request bodies'] = h.sandbox.requests.map((r) => r.body).join('\n');
    const scans = {
      'history (ok)': scanHistory(await handleOf(okRes.body.workflow_id).fetchHistory(), forms),
      'history (failed)': scanHistory(await handleOf(failedRes.body.workflow_id).fetchHistory(), forms),
      'repo cache (objects inflated)': await scanGitDir(path.join(h.config.repoCacheDir, ok.configRepoId), forms),
      'branch on the remote (objects inflated)': await scanGitDir(h.sandbox.bareDir(OWNER, ok.repoName), forms),
      texts: scanTexts(texts, forms),
    };
    for (const [where, scan] of Object.entries(scans))
      expect({ where, hits: scan.hits, looked: scan.looked > 0 }).toEqual({ where, hits: [], looked: true });
    // The commit message on the branch is ours and names the proposal, not the credential.
    expect(await git(h.sandbox.bareDir(OWNER, ok.repoName), 'log', '-1', '--format=%B', branchOf(ok))).toContain(
      `RelyLoop-Proposal: ${ok.proposalId}`,
    );
  }, 120_000);
});

describe('the open_pr routes refuse what they cannot run', () => {
  test('their real answers validate against the served OpenAPI document (202, 200, 404, 409, 422)', async () => {
    const doc = (await h.api('GET', '/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>
      >;
    };
    const ajv = (addFormatsModule as unknown as (a: Ajv2020) => Ajv2020)(new Ajv2020({ strict: false }));
    const check = (method: string, status: number, body: unknown) => {
      const schema =
        doc.paths['/api/v1/proposals/{id}/open_pr']?.[method]?.responses[String(status)]?.content?.['application/json']
          ?.schema;
      if (schema === undefined) throw new Error(`no documented schema for ${method} open_pr ${status}`);
      const validate = ajv.compile(schema);
      expect({ at: `${method} ${status}`, valid: validate(body), errors: validate.errors ?? null }).toEqual({
        at: `${method} ${status}`,
        valid: true,
        errors: null,
      });
    };
    const s = await seedProposal(h, { study: false });
    const before = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    check('get', before.status, before.body);
    const started = await post(s);
    expect(started.status).toBe(202);
    check('post', 202, started.body);
    await handleOf(started.body.workflow_id).result();
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.status).toBe(200);
    check('get', 200, view.body);
    const again = await post(s);
    expect(again.status).toBe(409);
    check('post', 409, again.body);
  });

  test('an unknown proposal is 404 PROPOSAL_NOT_FOUND on POST and GET', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const method of ['POST', 'GET']) {
      const res = await h.api(method, `/proposals/${id}/open_pr`);
      expect({ method, status: res.status, code: res.body.detail.error_code }).toEqual({
        method,
        status: 404,
        code: 'PROPOSAL_NOT_FOUND',
      });
    }
  });

  test('GET before any run is 404 and says so', async () => {
    const s = await seedProposal(h);
    const res = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatchObject({
      error_code: 'PROPOSAL_NOT_FOUND',
      message: expect.stringContaining('no open-PR run yet'),
    });
  });

  test('a cluster without a config repo is 422 CLUSTER_HAS_NO_CONFIG_REPO and starts nothing', async () => {
    const s = await seedProposal(h);
    const cluster = (await h.api('POST', '/clusters', { name: `bare-${s.repoName}` })).body as { id: string };
    const template = (
      await h.api('POST', '/templates', { cluster_id: cluster.id, name: 'search', declared_params: ['bm25.k1'] })
    ).body as { id: string };
    const proposal = (
      await h.api('POST', '/proposals', {
        cluster_id: cluster.id,
        template_id: template.id,
        study_id: null,
        config_diff: { 'bm25.k1': { from: 1.2, to: 1.3 } },
      })
    ).body as { id: string };
    const res = await h.api('POST', `/proposals/${proposal.id}/open_pr`);
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatchObject({ error_code: 'CLUSTER_HAS_NO_CONFIG_REPO', retryable: false });
    const ids: string[] = [];
    for await (const w of h.env.client.workflow.list({ query: `ProposalId = '${proposal.id}'` }))
      ids.push(w.workflowId);
    expect(ids).toEqual([]);
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: proposal.id } })).toMatchObject({
      status: 'pending',
      prOpenError: null,
    });
  });
});

// Recovery paths of openPrWorkflow, with short timeouts so they run in seconds:
// - git work on one worker (docs/architecture.md): when the claimed worker is gone (nobody polls its queue:
//   schedule-to-start timeout), the workflow claims another worker and redoes the git steps there,
//   and the PR still opens exactly once;
// - retry budgets: a step whose transient failures outlast its budget fails the run with
//   its code (docs/architecture.md "Error codes"), not a "_TRANSIENT" type; a rate limit waits through Temporal's
//   nextRetryDelay (docs/architecture.md "Forge behaviour"), not in a worker slot;
// - who retries what (docs/operations.md): each failure kind of the table, injected once, is
//   retried by its one layer — the step's Temporal retry (a second attempt in the history, the
//   failed request not repeated in place) or, for GitHub's lag after a push, the open-PR attempt
//   itself.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  OPEN_PR_WORKFLOW,
  progressQuery,
  type OpenPrInput,
  type OpenPrOutcome,
} from '../../domain/open-pr-contracts.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import type { Fault } from '../../sandbox/index.js';
import pg from 'pg';
import { waitUntil } from '../support/wait.js';

let h: OpenPrHarness;
beforeAll(async () => {
  // A lost git worker is noticed after 2 s instead of the default 10 s; budgets of 8 s instead of minutes.
  h = await startOpenPrHarness({
    env: {
      RELYLOOP_GIT_WORKER_START_TIMEOUT: '2s',
      RELYLOOP_GIT_RETRY_BUDGET: '10s',
      RELYLOOP_GITHUB_RETRY_BUDGET: '10s',
      // A row held by another session fails a database step's attempt after 2 s.
      RELYLOOP_DB_STATEMENT_TIMEOUT: '2s',
    },
  });
}, 180_000);
afterAll(async () => {
  await h?.close();
});

describe('git worker lost mid-run', () => {
  test('the workflow re-claims another worker and completes', async () => {
    const s = await seedProposal(h);
    // Worker 1 keeps answering the shared queue (it will claim) but its git worker is gone.
    const [, deadGit] = h.initialWorkers.workers;
    deadGit?.shutdown();
    const handle = await h.env.client.workflow.start(OPEN_PR_WORKFLOW, {
      taskQueue: h.config.temporalTaskQueue,
      workflowId: `open-pr:${s.proposalId}`,
      args: [{ proposalId: s.proposalId } satisfies OpenPrInput],
    });
    await waitUntil(
      'the run waits at sync on the dead queue',
      async () => (await handle.query(progressQuery)).currentStep === 'sync',
      20_000,
    );
    expect((await handle.query(progressQuery)).steps.find((x) => x.step === 'claim')?.note).toBe(
      `git steps on ${h.initialWorkers.gitTaskQueue}`,
    );
    // Worker 1 goes away entirely; worker 2 arrives and takes over.
    await h.initialWorkers.stop();
    const second = await h.startWorkers();
    const result = (await handle.result()) as OpenPrOutcome;
    expect(result).toMatchObject({ outcome: 'opened', prNumber: 1 });
    const progress = await handle.query(progressQuery);
    expect(progress.gitWorkerClaims).toBe(2);
    expect(progress.steps.find((x) => x.step === 'claim')?.note).toBe(`git steps on ${second.gitTaskQueue}`);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).toMatchObject({
      status: 'pr_opened',
    });
    h.initialWorkers = second; // the workers the next tests run on
  }, 90_000);
});

describe('git workers lost again and again (a crash-looping deployment)', () => {
  test('a run whose git worker is lost three times in a row still opens its PR: re-claims last as long as the git budget, not three tries', async () => {
    const s = await seedProposal(h);
    // Only a worker whose git worker is gone answers claims: each claim is lost after 2 s.
    await h.initialWorkers.stop();
    const dead = await h.startWorkers();
    const [, deadGit] = dead.workers;
    deadGit?.shutdown();
    const handle = await h.env.client.workflow.start(OPEN_PR_WORKFLOW, {
      taskQueue: h.config.temporalTaskQueue,
      workflowId: `open-pr:${s.proposalId}`,
      args: [{ proposalId: s.proposalId } satisfies OpenPrInput],
    });
    await waitUntil('the third claim', async () => (await handle.query(progressQuery)).gitWorkerClaims >= 3, 30_000);
    // A healthy worker arrives; the one whose git worker died goes away.
    const healthy = await h.startWorkers();
    await dead.stop();
    const result = (await handle.result()) as OpenPrOutcome;
    expect(result).toMatchObject({ outcome: 'opened' });
    const progress = await handle.query(progressQuery);
    expect(progress.gitWorkerClaims).toBeGreaterThanOrEqual(4);
    expect(progress.steps.find((x) => x.step === 'claim')?.note).toBe(`git steps on ${healthy.gitTaskQueue}`);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
    await healthy.stop();
    h.initialWorkers = await h.startWorkers();
  }, 90_000);
});

describe('retry budgets', () => {
  const failureChain = async (workflowId: string) => {
    const error = await h.env.client.workflow
      .getHandle(workflowId)
      .result()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const top = (error as WorkflowFailedError).cause as ApplicationFailure;
    return { top, activity: top.cause as ActivityFailure };
  };

  test('a git server failing for longer than the budget fails the run with CLONE_FAILED', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      path: new RegExp(`^/${OWNER}/${s.repoName}\\.git/`),
      faults: Array(200).fill({ status: 502 }),
    });
    const started = Date.now();
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    const { top, activity } = await failureChain(res.body.workflow_id);
    h.sandbox.clearFaults();
    const elapsedS = (Date.now() - started) / 1000;
    expect(top).toBeInstanceOf(ApplicationFailure);
    expect(top.type).toBe('CLONE_FAILED');
    expect(activity).toBeInstanceOf(ActivityFailure);
    // Temporal stops early when the next backoff would not fit in the 10 s budget.
    expect(elapsedS).toBeGreaterThanOrEqual(5);
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).prOpenError).toMatch(
      /^CLONE_FAILED: git clone failed: HTTP 502/,
    );
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body.steps.find((x: { step: string }) => x.step === 'sync').attempts).toBeGreaterThan(2);
  }, 60_000);

  test('a rate limit waits through nextRetryDelay (no worker slot held), then the PR opens', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: [{ status: 429, headers: { 'retry-after': '4' }, body: { message: 'Too Many Requests' } }],
    });
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    const events = (await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openPullRequest',
    );
    const started = events.find(
      (e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString(),
    );
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    const waitedMs =
      Number(started?.eventTime?.seconds) * 1000 +
      (started?.eventTime?.nanos ?? 0) / 1e6 -
      (Number(scheduled?.eventTime?.seconds) * 1000 + (scheduled?.eventTime?.nanos ?? 0) / 1e6);
    expect(waitedMs).toBeGreaterThanOrEqual(4_000);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
  }, 60_000);

  test('GitHub failing past the budget fails the run with GITHUB_API_FAILED', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/pulls$`),
      faults: Array(200).fill({ status: 503 }),
    });
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    const { top } = await failureChain(res.body.workflow_id);
    h.sandbox.clearFaults();
    expect(top.type).toBe('GITHUB_API_FAILED');
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).prOpenError).toMatch(
      /^GITHUB_API_FAILED: GitHub create pull request .* 503/,
    );
    expect(h.sandbox.pulls(OWNER, s.repoName)).toEqual([]);
  }, 60_000);
});

describe('who retries what (docs/operations.md): one layer per failure kind', () => {
  const restPath = (s: Seeded, rest: string) => new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/${rest}$`);
  const gitPath = (s: Seeded, rest: string) => new RegExp(`^/${OWNER}/${s.repoName}\\.git/${rest}$`);
  const SECONDARY = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';

  /** The attempts of `activityType`'s activities that completed, with the failure before each. */
  async function attemptsOf(workflowId: string, activityType: string) {
    const events = (await h.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
        .map((e) => String(e.eventId)),
    );
    return events
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => a !== null && a !== undefined && scheduled.has(String(a.scheduledEventId)))
      .map((a) => ({
        attempt: a?.attempt,
        lastFailure: a?.lastFailure?.message ?? null,
        nextRetryDelayS:
          a?.lastFailure?.applicationFailureInfo?.nextRetryDelay === null ||
          a?.lastFailure?.applicationFailureInfo?.nextRetryDelay === undefined
            ? null
            : Number(a.lastFailure.applicationFailureInfo.nextRetryDelay.seconds),
      }));
  }

  async function openWith(s: Seeded): Promise<string> {
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    expect(res.status).toBe(202);
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
    expect(h.sandbox.pulls(OWNER, s.repoName).filter((p) => p.state === 'open')).toHaveLength(1);
    return res.body.workflow_id as string;
  }

  const rows: {
    failure: string;
    step: string;
    method: string;
    path: (s: Seeded) => RegExp;
    fault: Fault;
    /** Requests to the path in the run: the failed one and the step's retry (never an in-place repeat). */
    requests?: number;
    nextRetryDelayS?: number;
  }[] = [
    {
      failure: 'REST network error (connection reset)',
      step: 'openPullRequest',
      method: 'POST',
      path: (s) => restPath(s, 'pulls'),
      fault: { reset: true },
      requests: 2,
    },
    {
      failure: 'REST 5xx',
      step: 'commentChart',
      method: 'POST',
      path: (s) => restPath(s, 'issues/\\d+/comments'),
      fault: { status: 502 },
      requests: 2,
    },
    {
      failure: 'REST answer lost after GitHub posted the comment',
      step: 'commentChart',
      method: 'POST',
      path: (s) => restPath(s, 'issues/\\d+/comments'),
      fault: { dropAnswer: true },
      // The retry lists the comments, finds its own (the marker) and does not post again.
      requests: 1,
    },
    {
      failure: 'REST 429 with Retry-After',
      step: 'commentChart',
      method: 'POST',
      path: (s) => restPath(s, 'issues/\\d+/comments'),
      fault: { status: 429, headers: { 'retry-after': '2' }, body: { message: 'Too Many Requests' } },
      requests: 2,
      nextRetryDelayS: 2,
    },
    {
      failure: 'REST 403 secondary rate limit',
      step: 'openPullRequest',
      method: 'POST',
      path: (s) => restPath(s, 'pulls'),
      fault: { status: 403, headers: { 'retry-after': '1' }, body: { message: SECONDARY } },
      requests: 2,
      nextRetryDelayS: 1,
    },
    {
      failure: 'git transport (502 on a fetch)',
      step: 'syncRepoCache',
      method: 'POST',
      path: (s) => gitPath(s, 'git-upload-pack'),
      fault: { status: 502 },
    },
    {
      failure: "git transport (a push's answer lost after the server took it)",
      step: 'pushBranch',
      method: 'POST',
      path: (s) => gitPath(s, 'git-receive-pack'),
      fault: { dropAnswer: true },
      // The retried step finds its own branch on the remote and does not push again.
      requests: 1,
    },
  ];

  test.each(rows)(
    '$failure: retried by the $step step (Temporal), once',
    async (row) => {
      const s = await seedProposal(h);
      const path = row.path(s);
      h.sandbox.injectFaults({ method: row.method, path, faults: [row.fault] });
      const workflowId = await openWith(s);
      const attempts = await attemptsOf(workflowId, row.step);
      expect(attempts).toEqual([expect.objectContaining({ attempt: 2, nextRetryDelayS: row.nextRetryDelayS ?? null })]);
      // Attempt 2 is the proof that nothing absorbed the failure in place (it would be attempt 1).
      const sent = h.sandbox.requests.filter((r) => r.method === row.method && path.test(r.path));
      if (row.requests !== undefined) expect(sent).toHaveLength(row.requests);
      if (row.step === 'commentChart') {
        // The first attempt posted on the PR its run had just created without a look; the retry
        // looked first. One chart comment either way.
        const comments = restPath(s, 'issues/\\d+/comments');
        expect(h.sandbox.requests.filter((r) => comments.test(r.path)).map((r) => r.method)).toEqual(
          row.requests === 1 ? ['POST', 'GET'] : ['POST', 'GET', 'POST'],
        );
        const [pr] = h.sandbox.pulls(OWNER, s.repoName);
        expect(h.sandbox.comments(OWNER, s.repoName, pr!.number)).toHaveLength(1);
      }
    },
    60_000,
  );

  test("GitHub's 422 lag right after a push: retried inside the open-PR attempt, not by Temporal", async () => {
    const s = await seedProposal(h);
    h.sandbox.setConsistencyLag(OWNER, s.repoName, 1_500);
    const workflowId = await openWith(s);
    h.sandbox.setConsistencyLag(OWNER, s.repoName, 0);
    expect(await attemptsOf(workflowId, 'openPullRequest')).toEqual([expect.objectContaining({ attempt: 1 })]);
    const posts = h.sandbox.requests.filter((r) => r.method === 'POST' && restPath(s, 'pulls').test(r.path));
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.map((r) => r.status)).toEqual([...posts.slice(0, -1).map(() => 422), 201]);
  }, 60_000);

  test('a database statement timeout: retried by the database step (Temporal)', async () => {
    const s = await seedProposal(h);
    const locker = new pg.Client({ connectionString: h.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM proposals WHERE id = $1 FOR UPDATE', [s.proposalId]);
      const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
      const handle = h.env.client.workflow.getHandle(res.body.workflow_id);
      await waitUntil(
        'markProposalOpened failed once on the held row',
        async () =>
          ((await handle.describe()).raw.pendingActivities ?? []).some(
            (a) => a.activityType?.name === 'markProposalOpened' && (a.attempt ?? 0) >= 2,
          ),
        30_000,
      );
      await locker.query('COMMIT');
      expect(await handle.result()).toMatchObject({ outcome: 'opened' });
      const [marked] = await attemptsOf(res.body.workflow_id, 'markProposalOpened');
      expect(marked?.attempt).toBeGreaterThanOrEqual(2);
      expect(marked?.lastFailure).toMatch(/statement timeout/i);
    } finally {
      await locker.end();
    }
  }, 60_000);
});

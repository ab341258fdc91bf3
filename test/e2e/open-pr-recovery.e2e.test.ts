// Recovery paths of openPrWorkflow, with short timeouts so they run in seconds:
// - SPEC §2 worker-affine git work: when the claimed worker is gone (nobody polls its queue:
//   schedule-to-start timeout), the workflow claims another worker and redoes the git steps there,
//   and the PR still opens exactly once;
// - retry budgets: a step whose transient failures outlast its budget fails the run with
//   its code (SPEC §7), not a "_TRANSIENT" type; a rate limit waits through Temporal's
//   nextRetryDelay (SPEC §9), not in a worker slot.
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
import { seedProposal } from '../support/open-pr-fixtures.js';
import { waitUntil } from '../support/wait.js';

let h: OpenPrHarness;
beforeAll(async () => {
  // A lost git worker is noticed after 2 s instead of the default 10 s; budgets of 8 s instead of minutes.
  h = await startOpenPrHarness({
    env: {
      RELYLOOP_GIT_WORKER_START_TIMEOUT: '2s',
      RELYLOOP_GIT_RETRY_BUDGET: '10s',
      RELYLOOP_GITHUB_RETRY_BUDGET: '10s',
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
    expect(elapsedS).toBeLessThan(30);
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).prOpenError).toMatch(
      /^CLONE_FAILED: git clone failed: HTTP 502/,
    );
    const view = await h.api('GET', `/proposals/${s.proposalId}/open_pr`);
    expect(view.body.steps.find((x: { step: string }) => x.step === 'sync').attempts).toBeGreaterThan(2);
  }, 60_000);

  test('a rate limit longer than the in-process threshold waits through nextRetryDelay, then the PR opens', async () => {
    const s = await seedProposal(h);
    // Retry-After 4 s: above the 3 s the test workers sleep through in-process.
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

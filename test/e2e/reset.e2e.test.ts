// `temporal workflow reset` (the Web UI's Reset button) respects the repo lock: a reset
// run hands back a grant meant for its original run (re-applied by the reset) and waits for its
// own; a grant for a request it replays reaches it, not the closed original. Reset at the first
// workflow task, while waiting for the lock, after the lock and after the PR, of a completed, a
// running and a failed run, ends with exactly one PR, the proposal right and the lock free.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { progressQuery } from '../../domain/open-pr-contracts.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { expectOnePrOpen, lockHolderOf } from '../support/pr-outcome.js';
import { TEST_NAMESPACE } from '../support/temporal.js';
import { tryRevParse } from '../support/git-cli.js';
import { waitUntil } from '../support/wait.js';

type ResetPoint = 'first workflow task' | 'waiting for the lock' | 'after the lock' | 'after the PR';
type Event = temporal.api.history.v1.IHistoryEvent;

let h: OpenPrHarness;
beforeAll(async () => {
  h = await startOpenPrHarness();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const post = async (s: Seeded): Promise<string> =>
  (await h.api('POST', `/proposals/${s.proposalId}/open_pr`)).body.workflow_id as string;
const pullsPath = (s: Seeded) => new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/pulls$`);

/** The id of the workflow-task-completed event a reset to `point` names. */
function resetEventId(events: Event[], point: ResetPoint): number {
  const id = (e: Event) => Number(e.eventId);
  const completedWft = (after: number, before = Infinity) =>
    events.find((e) => e.workflowTaskCompletedEventAttributes && id(e) > after && id(e) < before);
  const scheduledId = (name: string) =>
    id(events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name) ?? {});
  const completedOf = (name: string) =>
    id(
      events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === scheduledId(name)) ?? {},
    );
  const grant = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'lockGranted');
  const granted = grant === undefined ? Infinity : id(grant);
  const found = {
    'first workflow task': () => completedWft(0),
    'waiting for the lock': () => completedWft(completedOf('requestRepoLock'), granted),
    'after the lock': () => completedWft(granted),
    'after the PR': () => completedWft(completedOf('openPullRequest')),
  }[point]();
  if (found === undefined) throw new Error(`no workflow task to reset to at "${point}"`);
  return id(found);
}

async function reset(workflowId: string, runId: string, point: ResetPoint): Promise<string> {
  const history = await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const response = await h.env.client.workflowService.resetWorkflowExecution({
    namespace: TEST_NAMESPACE,
    workflowExecution: { workflowId, runId },
    reason: `test: reset ${point}`,
    workflowTaskFinishEventId: resetEventId(history.events ?? [], point) as never,
    requestId: randomUUID(),
  });
  return response.runId as string;
}

/** A run of `subject` that had to wait for the lock: `blocker` holds it with its PR creation held. */
async function subjectQueuedBehindBlocker(): Promise<{
  blocker: Seeded;
  subject: Seeded;
  blockerId: string;
  subjectId: string;
  releaseBlocker: () => void;
}> {
  const blocker = await seedProposal(h);
  const subject = await seedProposal(h, { reuse: blocker, diff: { fuzziness: { from: 'AUTO', to: '1' } } });
  const held = h.sandbox.holdNext({ method: 'POST', path: pullsPath(blocker), when: 'before' });
  const blockerId = await post(blocker);
  await held.reached;
  const subjectId = await post(subject);
  await waitUntil('the subject asked for the lock and waits', async () => {
    const events = (await h.env.client.workflow.getHandle(subjectId).fetchHistory()).events ?? [];
    try {
      resetEventId(events, 'waiting for the lock');
      return true;
    } catch {
      return false;
    }
  });
  return { blocker, subject, blockerId, subjectId, releaseBlocker: () => held.release() };
}

async function expectSettled(s: Seeded): Promise<void> {
  await expectOnePrOpen(h, s);
  await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 15_000);
}

describe('reset of a completed run', () => {
  test.each<ResetPoint>(['first workflow task', 'waiting for the lock', 'after the lock', 'after the PR'])(
    'at "%s": one PR, the proposal pr_opened, the lock free',
    async (point) => {
      const { blocker, subject, blockerId, subjectId, releaseBlocker } = await subjectQueuedBehindBlocker();
      releaseBlocker();
      await h.env.client.workflow.getHandle(blockerId).result();
      const original = await h.env.client.workflow.getHandle(subjectId).describe();
      expect(await h.env.client.workflow.getHandle(subjectId).result()).toMatchObject({ outcome: 'opened' });
      const prNumber = (await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: subject.proposalId } })).prNumber;

      const newRunId = await reset(subjectId, original.runId, point);
      const ended = await h.env.client.workflow
        .getHandle(subjectId, newRunId)
        .result()
        .then(
          (r) => r,
          (e: Error & { cause?: { type?: string } }) => `failed ${e.cause?.type ?? 'unknown'}`,
        );
      // Up to "after the lock" the run finds the proposal pr_opened and stops. After the PR it still
      // holds the grant its original run released, so the fence stops it at the comment: it never
      // acts without the lock. It then finds the proposal holding its PR and ends as done, not as a
      // failure. Either way the proposal and its one PR stay as they were.
      expect(ended).toMatchObject({ outcome: 'not_pending' });
      // GET open_pr shows the run that opened the PR, not the reset run that found nothing to do.
      const view = await h.api('GET', `/proposals/${subject.proposalId}/open_pr`);
      expect(view.body).toMatchObject({ run_id: original.runId, status: 'completed', result: { outcome: 'opened' } });
      // Nothing counts it as a failure: no error recorded, no failure code on the run.
      expect(
        (await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: subject.proposalId } })).prOpenError,
      ).toBeNull();
      expect(
        (await h.env.client.workflow.getHandle(subjectId, newRunId).describe()).searchAttributes.OpenPrErrorCode,
      ).toBeUndefined();
      await expectSettled(subject);
      await expectSettled(blocker);
      expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: subject.proposalId } })).prNumber).toBe(
        prNumber,
      );
    },
    120_000,
  );
});

describe('reset of a running run', () => {
  test.each<ResetPoint>(['first workflow task', 'waiting for the lock'])(
    'while it waits for the lock, at "%s": the reset run gets the lock after the holder',
    async (point) => {
      const { blocker, subject, blockerId, subjectId, releaseBlocker } = await subjectQueuedBehindBlocker();
      const runId = (await h.env.client.workflow.getHandle(subjectId).describe()).runId;
      const newRunId = await reset(subjectId, runId, point);
      releaseBlocker();
      expect(await h.env.client.workflow.getHandle(blockerId).result()).toMatchObject({ outcome: 'opened' });
      expect(await h.env.client.workflow.getHandle(subjectId, newRunId).result()).toMatchObject({ outcome: 'opened' });
      await expectSettled(blocker);
      await expectSettled(subject);
    },
    120_000,
  );

  test('holding the lock at step 12, reset "after the lock": the PR the original run created is adopted', async () => {
    const s = await seedProposal(h);
    const held = h.sandbox.holdNext({ method: 'POST', path: pullsPath(s), when: 'before' });
    const workflowId = await post(s);
    await held.reached;
    const runId = (await h.env.client.workflow.getHandle(workflowId).describe()).runId;
    const newRunId = await reset(workflowId, runId, 'after the lock');
    held.release(); // the terminated run's request still reaches GitHub: the PR exists
    expect(await h.env.client.workflow.getHandle(workflowId, newRunId).result()).toMatchObject({ outcome: 'opened' });
    await expectSettled(s);
    expect(
      (await h.env.client.workflow.getHandle(workflowId, newRunId).query(progressQuery)).steps.find(
        (x) => x.step === 'open_pr',
      )?.status,
    ).toBe('completed');
  }, 120_000);
});

describe('reset of a failed run', () => {
  test('PARAM_NOT_IN_TEMPLATE, template fixed, reset at "first workflow task": one PR, the lock free', async () => {
    const s = await seedProposal(h, { declaredParams: ['field_boosts.title'] });
    const workflowId = await post(s);
    await expect(h.env.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
    expect(
      (await h.api('PATCH', `/templates/${s.templateId}`, { declared_params: ['field_boosts.title', 'bm25.k1'] }))
        .status,
    ).toBe(200);
    const runId = (await h.env.client.workflow.getHandle(workflowId).describe()).runId;
    const newRunId = await reset(workflowId, runId, 'first workflow task');
    expect(await h.env.client.workflow.getHandle(workflowId, newRunId).result()).toMatchObject({ outcome: 'opened' });
    await expectSettled(s);
  }, 120_000);
});

describe('a reset that replays no retry keeps the failure on record', () => {
  test('GITHUB_AUTH_FAILED, reset "after the lock": the stale grant stops it with LOCK_LOST, pr_open_error keeps the real cause', async () => {
    const s = await seedProposal(h);
    h.sandbox.injectFaults({
      method: 'POST',
      path: pullsPath(s),
      faults: [{ status: 403, body: { message: 'Resource not accessible by integration' } }],
    });
    const workflowId = await post(s);
    await expect(h.env.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
    const before = (await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).prOpenError;
    expect(before).toMatch(/^GITHUB_AUTH_FAILED: /);
    await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 15_000);

    const runId = (await h.env.client.workflow.getHandle(workflowId).describe()).runId;
    const newRunId = await reset(workflowId, runId, 'after the lock');
    const error = (await h.env.client.workflow
      .getHandle(workflowId, newRunId)
      .result()
      .catch((e: unknown) => e)) as Error & { cause?: { type?: string; message?: string } };
    expect(error.cause).toMatchObject({
      type: 'LOCK_LOST',
      message: expect.stringMatching(
        /^LOCK_LOST: this run's grant of the repo lock is not the lock's .*reset to the first workflow task/,
      ),
    });
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).prOpenError).toBe(before);
    // It did nothing: no PR, and the lock it never held is still free.
    expect(h.sandbox.pulls(OWNER, s.repoName)).toEqual([]);
    expect(await lockHolderOf(h, s.configRepoId)).toBeNull();
  }, 120_000);
});

describe('force-release fences the old holder', () => {
  test('the holder stops before its push with LOCK_LOST; the next waiter opens its PR alone', async () => {
    const old = await seedProposal(h);
    const next = await seedProposal(h, { reuse: old, diff: { fuzziness: { from: 'AUTO', to: '1' } } });
    // The old holder is held in its first clone (step 5) while the operator takes its lock.
    const held = h.sandbox.holdNext({
      method: 'GET',
      path: new RegExp(`^/${OWNER}/${old.repoName}\\.git/info/refs$`),
      when: 'before',
    });
    const oldId = await post(old);
    await held.reached;
    const nextId = await post(next);
    await waitUntil(
      'the next run waits for the lock',
      async () => (await h.env.client.workflow.getHandle(nextId).query(progressQuery)).currentStep === 'lock',
    );
    await h.env.client.workflow
      .getHandle(`repo-lock:${old.configRepoId}`)
      .signal('forceRelease', { reason: 'stuck run' });
    expect(await h.env.client.workflow.getHandle(nextId).result()).toMatchObject({ outcome: 'opened' });
    held.release();

    const error = (await h.env.client.workflow
      .getHandle(oldId)
      .result()
      .catch((e: unknown) => e)) as Error & { cause?: { type?: string; message?: string } };
    expect(error.cause).toMatchObject({
      type: 'LOCK_LOST',
      message: expect.stringContaining('force-released by an operator: stuck run'),
    });
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: old.proposalId } })).prOpenError).toMatch(
      /^LOCK_LOST: .*before the push/,
    );
    // Nothing of the old run reached GitHub: no branch, no PR; the next run's PR is the only one.
    expect(h.sandbox.requests.filter((r) => r.path === `/${OWNER}/${old.repoName}.git/git-receive-pack`)).toHaveLength(
      1,
    );
    expect(h.sandbox.pulls(OWNER, old.repoName).map((p) => p.head.ref)).toEqual([`relyloop/study-${next.studyId}`]);
    await expectSettled(next);
  }, 120_000);

  test('during the push: the push is cancelled in flight, nothing of it reaches the remote, the next waiter opens its PR', async () => {
    const old = await seedProposal(h);
    const next = await seedProposal(h, { reuse: old, diff: { fuzziness: { from: 'AUTO', to: '1' } } });
    // The old holder's push has begun: its first request (the ref advertisement) is held.
    const held = h.sandbox.holdNext({
      method: 'GET',
      path: new RegExp(`^/${OWNER}/${old.repoName}\\.git/info/refs$`),
      query: /service=git-receive-pack/,
      when: 'before',
    });
    const oldId = await post(old);
    await held.reached;
    expect((await h.env.client.workflow.getHandle(oldId).query(progressQuery)).currentStep).toBe('push');
    const nextId = await post(next);
    await waitUntil(
      'the next run waits for the lock',
      async () => (await h.env.client.workflow.getHandle(nextId).query(progressQuery)).currentStep === 'lock',
    );
    await h.env.client.workflow
      .getHandle(`repo-lock:${old.configRepoId}`)
      .signal('forceRelease', { reason: 'stuck push' });

    // The old holder stops while its request is still held: the revocation cancelled the push.
    const error = (await h.env.client.workflow
      .getHandle(oldId)
      .result()
      .catch((e: unknown) => e)) as Error & { cause?: { type?: string; message?: string } };
    expect(error.cause).toMatchObject({
      type: 'LOCK_LOST',
      message: expect.stringMatching(/^LOCK_LOST: .*stuck push\) during the push, which was cancelled/),
    });
    const progress = await h.env.client.workflow.getHandle(oldId).query(progressQuery);
    expect(progress.currentStep).toBe('push');
    held.release();
    expect(await h.env.client.workflow.getHandle(nextId).result()).toMatchObject({ outcome: 'opened' });
    await expectSettled(next);
    // Nothing of the old push reached GitHub: no pack sent, no branch, no PR.
    expect(
      h.sandbox.requests.filter(
        (r) => r.method === 'POST' && r.path === `/${OWNER}/${old.repoName}.git/git-receive-pack`,
      ),
    ).toHaveLength(1);
    expect(
      await tryRevParse(h.sandbox.bareDir(OWNER, old.repoName), `refs/heads/relyloop/study-${old.studyId}`),
    ).toBeUndefined();
    expect(h.sandbox.pulls(OWNER, old.repoName).map((p) => p.head.ref)).toEqual([`relyloop/study-${next.studyId}`]);
    expect((await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: old.proposalId } })).prOpenError).toMatch(
      /^LOCK_LOST: .*during the push/,
    );
  }, 120_000);
});

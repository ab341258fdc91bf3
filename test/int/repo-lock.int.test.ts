// The per-repo mutex on a real Temporal dev server: FIFO exclusion, dedup, skipping requesters
// that are gone, lease expiry for a terminated holder, release on failure and cancellation,
// continue-as-new keeping the queue, operator force-release, and the state query.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { assertLockHeld, publishedHolder } from '../../activities/lock/fence.js';
import { createLockActivities } from '../../activities/lock/request-lock.js';
import type { AppError } from '../../domain/errors.js';
import {
  forceReleaseSignal,
  LOCK_HOLDER_MEMO,
  lockStateQuery,
  repoLockWorkflowId,
  requestLockSignal,
  type RepoLockView,
} from '../../domain/lock-contracts.js';
import { createLockTestActivities } from '../support/lock-test-activities.js';
import { startTestTemporal, TEST_NAMESPACE } from '../support/temporal.js';
import type { HolderInput } from '../support/workflows/lock-test.js';
import { releaseHoldSignal } from '../support/workflows/lock-test-contract.js';
import { waitUntil } from '../support/wait.js';

const taskQueue = 'repo-lock-test';
const SWEEP_MS = 2_000;
const workflowsPath = fileURLToPath(new URL('../support/workflows/lock-test.ts', import.meta.url));

describe('repo-lock mutex', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const events: { label: string; at: number }[] = [];

  const createWorker = () =>
    Worker.create({
      connection: env.nativeConnection,
      namespace: TEST_NAMESPACE,
      taskQueue,
      workflowsPath,
      activities: {
        ...createLockActivities({
          client: env.client,
          taskQueue,
          lockOptions: { maxGrantsPerRun: 3, idleTimeoutMs: 5_000, sweepIntervalMs: SWEEP_MS },
        }),
        ...createLockTestActivities(events),
      },
    });
  beforeAll(async () => {
    env = await startTestTemporal();
    worker = await createWorker();
    running = worker.run();
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  afterEach(() => {
    events.length = 0;
  });

  const startHolder = (input: HolderInput): Promise<WorkflowHandle> =>
    env.client.workflow.start('lockHolderWorkflow', {
      taskQueue,
      workflowId: `holder-${input.label}-${randomUUID()}`,
      args: [input],
    });
  const lockHandle = (repo: string) => env.client.workflow.getHandle(repoLockWorkflowId(repo));
  const lockState = (repo: string) => lockHandle(repo).query(lockStateQuery);
  const until = (what: string, check: () => Promise<boolean> | boolean) => waitUntil(what, check, 20_000);
  const queuedCount = async (repo: string) => {
    try {
      const s = await lockState(repo);
      return s.queue.length + (s.holder ? 1 : 0);
    } catch {
      return 0;
    }
  };
  /** Starts holders one after another, each after the lock has seen the previous request. */
  async function startInOrder(inputs: HolderInput[]): Promise<WorkflowHandle[]> {
    const handles: WorkflowHandle[] = [];
    for (const [i, input] of inputs.entries()) {
      handles.push(await startHolder(input));
      await until(
        `request ${i + 1} queued`,
        async () =>
          (await queuedCount(input.configRepoId)) + events.filter((e) => e.label.endsWith(':done')).length >= i + 1,
      );
    }
    return handles;
  }
  const labels = () => events.map((e) => e.label);

  test('grants FIFO, one holder at a time, and reports holder and queue', async () => {
    const repo = randomUUID();
    // Each holds until released: the state is read while `a` certainly holds.
    const handles = await startInOrder(
      ['a', 'b', 'c'].map((label) => ({ configRepoId: repo, label, holdMs: 60_000, leaseMs: 30_000 })),
    );
    const state: RepoLockView = await lockState(repo);
    expect(state.holder?.workflowId).toBe(handles[0]?.workflowId);
    // Times an operator can read: ISO 8601, the lease ending after the grant.
    expect(state.holder?.grantedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(state.holder?.expiresAt ?? '')).toBeGreaterThan(Date.parse(state.holder?.grantedAt ?? ''));
    expect(state.queue.map((q) => q.workflowId)).toEqual([handles[1]?.workflowId, handles[2]?.workflowId]);
    for (const h of handles) await h.signal(releaseHoldSignal);
    await Promise.all(handles.map((h) => h.result()));
    expect(labels()).toEqual(['a:acquired', 'a:done', 'b:acquired', 'b:done', 'c:acquired', 'c:done']);
  }, 60_000);

  test('a repeated request from one run is queued once', async () => {
    const repo = randomUUID();
    const [holder] = await startInOrder([{ configRepoId: repo, label: 'h', holdMs: 3_000, leaseMs: 30_000 }]);
    const dup = { workflowId: 'someone', runId: randomUUID(), requestId: randomUUID(), leaseMs: 1_000 };
    await lockHandle(repo).signal(requestLockSignal, dup);
    await lockHandle(repo).signal(requestLockSignal, dup);
    const state = await lockState(repo);
    expect(state.queue).toEqual([dup]);
    await holder?.result();
  }, 60_000);

  test('a requester that is gone is skipped; a terminated holder loses the lock at lease expiry', async () => {
    const repo = randomUUID();
    const [holder, gone, next] = await startInOrder([
      { configRepoId: repo, label: 'holder', holdMs: 60_000, leaseMs: 3_000 },
      { configRepoId: repo, label: 'gone', holdMs: 100, leaseMs: 30_000 },
      { configRepoId: repo, label: 'next', holdMs: 100, leaseMs: 30_000 },
    ]);
    await until('holder holds', () => labels().includes('holder:acquired'));
    await gone?.terminate('requester gone while queued');
    const terminatedAt = Date.now();
    await holder?.terminate('holder crashed while holding');
    await next?.result();
    expect(labels()).toEqual(['holder:acquired', 'next:acquired', 'next:done']);
    const acquiredAt = events.find((e) => e.label === 'next:acquired')?.at ?? 0;
    expect(acquiredAt - terminatedAt).toBeGreaterThan(1_000); // waited for the lease, not freed early
  }, 60_000);

  test('the holder releases on failure and on cancellation, long before its lease ends', async () => {
    const repo = randomUUID();
    const [failing, cancelled, last] = await startInOrder([
      { configRepoId: repo, label: 'failing', holdMs: 200, leaseMs: 120_000, fail: true },
      { configRepoId: repo, label: 'cancelled', holdMs: 60_000, leaseMs: 120_000 },
      { configRepoId: repo, label: 'last', holdMs: 100, leaseMs: 120_000 },
    ]);
    await expect(failing?.result()).rejects.toThrow();
    await until('cancelled holds', () => labels().includes('cancelled:acquired'));
    await cancelled?.cancel();
    await expect(cancelled?.result()).rejects.toThrow();
    await last?.result();
    expect(labels()).toEqual(['failing:acquired', 'cancelled:acquired', 'last:acquired', 'last:done']);
  }, 60_000);

  test('continues as new after N grants without losing holder or queue', async () => {
    const repo = randomUUID();
    const inputs = ['1', '2', '3', '4', '5'].map((label) => ({
      configRepoId: repo,
      label,
      holdMs: 300,
      leaseMs: 30_000,
    }));
    const handles = await startInOrder(inputs);
    const firstRun = (await lockHandle(repo).describe()).runId;
    await Promise.all(handles.map((h) => h.result()));
    expect(labels()).toEqual(inputs.flatMap((i) => [`${i.label}:acquired`, `${i.label}:done`]));
    const runs = [];
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${repoLockWorkflowId(repo)}'` }))
      runs.push(w);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.some((r) => r.runId === firstRun && r.status.name === 'CONTINUED_AS_NEW')).toBe(true);
  }, 60_000);

  test('lockState drops waiters that are gone: a cancelled one at once (it withdraws), a terminated one at the next sweep', async () => {
    const repo = randomUUID();
    const [holder, cancelled, terminated, next] = await startInOrder([
      { configRepoId: repo, label: 'holder', holdMs: 60_000, leaseMs: 60_000 },
      { configRepoId: repo, label: 'cancelled', holdMs: 100, leaseMs: 30_000 },
      { configRepoId: repo, label: 'terminated', holdMs: 100, leaseMs: 30_000 },
      { configRepoId: repo, label: 'next', holdMs: 100, leaseMs: 30_000 },
    ]);
    await until('holder holds', () => labels().includes('holder:acquired'));
    const queued = async () => (await lockState(repo)).queue.map((r) => r.workflowId);
    expect(await queued()).toEqual([cancelled?.workflowId, terminated?.workflowId, next?.workflowId]);

    await cancelled?.cancel();
    await expect(cancelled?.result()).rejects.toThrow();
    await until(
      'the cancelled waiter withdrew',
      async () => !(await queued()).includes(cancelled?.workflowId as string),
    );
    expect(await queued()).toEqual([terminated?.workflowId, next?.workflowId]);

    await terminated?.terminate('gone while queued');
    await until(
      'the terminated waiter was swept',
      async () => !(await queued()).includes(terminated?.workflowId as string),
    );
    expect(await queued()).toEqual([next?.workflowId]);

    await holder?.signal(releaseHoldSignal);
    await next?.result();
    expect(labels()).toEqual(['holder:acquired', 'holder:done', 'next:acquired', 'next:done']);
  }, 60_000);

  test('an operator can force-release a stuck holder', async () => {
    const repo = randomUUID();
    const [stuck, waiting] = await startInOrder([
      { configRepoId: repo, label: 'stuck', holdMs: 120_000, leaseMs: 120_000 },
      { configRepoId: repo, label: 'waiting', holdMs: 100, leaseMs: 30_000 },
    ]);
    await until('stuck holds', () => labels().includes('stuck:acquired'));
    await lockHandle(repo).signal(forceReleaseSignal, { reason: 'test' });
    await waiting?.result();
    expect(labels()).toEqual(['stuck:acquired', 'waiting:acquired', 'waiting:done']);
    await stuck?.terminate('cleanup');
  }, 60_000);

  test("the fence activities check: the holder's lease token passes; a wrong, revoked or absent one is LOCK_LOST", async () => {
    const repo = randomUUID();
    const [holder] = await startInOrder([{ configRepoId: repo, label: 'fenced', holdMs: 60_000, leaseMs: 30_000 }]);
    await until('fenced holds', () => labels().includes('fenced:acquired'));
    const token = (await lockState(repo)).holder?.leaseToken as string;
    await expect(assertLockHeld(env.client, { configRepoId: repo, leaseToken: token })).resolves.toBeUndefined();
    const lost = (fence: { configRepoId: string; leaseToken: string }) =>
      assertLockHeld(env.client, fence).then(
        () => 'held',
        (e: AppError) => `${e.code}: ${e.message}`,
      );
    expect(await lost({ configRepoId: repo, leaseToken: 'not-the-token' })).toMatch(
      /^LOCK_LOST: .*another run holds it/,
    );
    await lockHandle(repo).signal(forceReleaseSignal, { reason: 'fence test' });
    await until('nobody holds it', async () => (await lockState(repo)).holder === null);
    expect(await lost({ configRepoId: repo, leaseToken: token })).toMatch(/^LOCK_LOST: .*nobody holds it/);
    expect(await lost({ configRepoId: randomUUID(), leaseToken: token })).toMatch(/^LOCK_LOST: /);
    await holder?.terminate('cleanup');
  }, 60_000);

  test("the fence reads the holder the lock published in its memo, with or without the lock's worker", async () => {
    const repo = randomUUID();
    const [holder] = await startInOrder([{ configRepoId: repo, label: 'memo', holdMs: 60_000, leaseMs: 30_000 }]);
    await until('memo holds', () => labels().includes('memo:acquired'));
    const token = (await lockState(repo)).holder?.leaseToken as string;
    const memo = async () => publishedHolder((await lockHandle(repo).describe()).memo);
    expect(await memo()).toBe(token);

    // No worker polls the lock's queue: a query would wait for one; the published holder answers.
    worker.shutdown();
    await running;
    await expect(assertLockHeld(env.client, { configRepoId: repo, leaseToken: token })).resolves.toBeUndefined();
    await expect(assertLockHeld(env.client, { configRepoId: repo, leaseToken: 'not-the-token' })).rejects.toMatchObject(
      {
        code: 'LOCK_LOST',
      },
    );
    worker = await createWorker();
    running = worker.run();

    await lockHandle(repo).signal(forceReleaseSignal, { reason: 'memo test' });
    await until('the memo says nobody holds it', async () => (await memo()) === null);
    await expect(assertLockHeld(env.client, { configRepoId: repo, leaseToken: token })).rejects.toMatchObject({
      code: 'LOCK_LOST',
    });
    await holder?.terminate('cleanup');
  }, 60_000);
});

describe('publishedHolder', () => {
  test("reads the lock's memo: a token, nobody (null), or nothing published (an older lock run: query it)", () => {
    expect(publishedHolder({ [LOCK_HOLDER_MEMO]: { leaseToken: 'abc' } })).toBe('abc');
    expect(publishedHolder({ [LOCK_HOLDER_MEMO]: { leaseToken: null } })).toBeNull();
    expect(publishedHolder(undefined)).toBeUndefined();
    expect(publishedHolder({})).toBeUndefined();
    expect(publishedHolder({ [LOCK_HOLDER_MEMO]: 'abc' })).toBeUndefined();
    expect(publishedHolder({ [LOCK_HOLDER_MEMO]: {} })).toBeUndefined();
  });
});

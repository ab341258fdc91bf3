// The requester side of the repo lock, used inside a workflow: ask (through an activity doing
// signal-with-start), wait for the grant, renew the lease while working, and release in `finally`
// — on success, failure and cancellation alike; a run that stops waiting withdraws its request.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  lockGrantedSignal,
  lockRevokedSignal,
  releaseLockSignal,
  renewLockSignal,
  repoLockWorkflowId,
  withdrawLockSignal,
  type LockFence,
  type LockGrant,
  type LockRequest,
} from '../domain/lock-contracts.js';

/**
 * How long a run whose side effect was refused by the fence waits for the lock's revocation
 * signal (sent before anyone else is granted the lock). None means the grant is stale: the run
 * was reset to a point after its lock was granted.
 */
const REVOCATION_GRACE_MS = 3_000;

/** What `LOCK_LOST` carries when the run's grant is not the lock's (see REVOCATION_GRACE_MS). */
export interface LockLostDetails {
  staleGrant: boolean;
}

export interface RepoLockDeps {
  /** Activity: signal-with-start `repo-lock:{configRepoId}` with this request. */
  requestRepoLock(input: { configRepoId: string; request: LockRequest }): Promise<void>;
}

export interface WithRepoLockOptions {
  configRepoId: string;
  /** Lease length; renewed every third of it while `fn` runs. */
  leaseMs: number;
  /** Called once the lock is held (for progress reporting). */
  onGranted?: () => void;
}

/** The lock as its holder sees it, for guarding each side effect. */
export interface HeldLock {
  /**
   * Runs `call` (an activity with a side effect) with the run's fencing token, after checking the
   * lock was not taken from this run (force-release, lease expiry): LOCK_LOST if it was. A
   * revocation that arrives while `call` runs cancels it: the activity learns of it at
   * its next heartbeat and aborts its request, and the run fails with LOCK_LOST once it stopped.
   */
  fenced<T>(before: string, call: (fence: LockFence) => Promise<T>): Promise<T>;
}

export async function withRepoLock<T>(
  deps: RepoLockDeps,
  opts: WithRepoLockOptions,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const info = workflowInfo();
  const lockWorkflowId = repoLockWorkflowId(opts.configRepoId);
  let grant: LockGrant | undefined;
  let wanted = true;
  let requested = false;
  const release = (leaseToken: string) =>
    getExternalWorkflowHandle(lockWorkflowId).signal(releaseLockSignal, { leaseToken });
  // Deterministic per run (workflow randomness): the same when a run replays its history, and a
  // new one in a run reset to before this request.
  const requestId = uuid4();

  let revokedBecause: string | undefined;
  // Every fenced call running now (the chart comment and mark_opened run side by side).
  const inFlight = new Set<CancellationScope>();
  setHandler(lockRevokedSignal, ({ leaseToken, reason }) => {
    if (grant?.leaseToken !== leaseToken) return;
    revokedBecause = reason;
    for (const scope of inFlight) scope.cancel();
  });

  setHandler(lockGrantedSignal, (g) => {
    // A grant for another request (an earlier run's, re-applied by a reset) is handed back at once.
    const ours = g.requestId === requestId;
    if (wanted && ours) grant ??= g;
    else if (g.leaseToken !== grant?.leaseToken) void release(g.leaseToken); // arrived after we gave up, or not ours
  });

  try {
    requested = true;
    await deps.requestRepoLock({
      configRepoId: opts.configRepoId,
      request: { workflowId: info.workflowId, runId: info.runId, requestId, leaseMs: opts.leaseMs },
    });
    await condition(() => grant !== undefined);
    opts.onGranted?.();
    const held = grant as LockGrant;
    const renewal = new CancellationScope();
    const renewing = renewal
      .run(async () => {
        for (;;) {
          await sleep(Math.max(1_000, Math.floor(opts.leaseMs / 3)));
          await getExternalWorkflowHandle(lockWorkflowId).signal(renewLockSignal, { leaseToken: held.leaseToken });
        }
      })
      .catch(() => undefined); // ends by cancellation below
    const fence: LockFence = { configRepoId: opts.configRepoId, leaseToken: held.leaseToken };
    const lost = (message: string, staleGrant: boolean, cause?: Error) =>
      ApplicationFailure.create({
        type: 'LOCK_LOST',
        message,
        nonRetryable: true,
        details: [{ staleGrant } satisfies LockLostDetails],
        cause,
      });
    const lock: HeldLock = {
      async fenced(before, call) {
        if (revokedBecause !== undefined) {
          throw lost(
            `the repo lock was taken from this run (${revokedBecause}) before ${before}; nothing further was done — POST open_pr again`,
            false,
          );
        }
        const scope = new CancellationScope();
        inFlight.add(scope);
        try {
          return await scope.run(() => call(fence));
        } catch (error) {
          if (
            revokedBecause !== undefined &&
            isCancellation(error) &&
            !CancellationScope.current().consideredCancelled
          ) {
            throw lost(
              `the repo lock was taken from this run (${revokedBecause}) during ${before}, which was cancelled before it finished — POST open_pr again`,
              false,
            );
          }
          if (revokedBecause === undefined && isLockLost(error)) {
            // The fence refused the side effect: the revocation signal is on its way, or never comes.
            await condition(() => revokedBecause !== undefined, REVOCATION_GRACE_MS);
            if (revokedBecause === undefined) {
              throw lost(
                `this run's grant of the repo lock is not the lock's (it is from before a reset to a point after the grant); nothing was done at ${before} — reset to the first workflow task, or POST open_pr, to retry`,
                true,
                error as Error,
              );
            }
          }
          throw error;
        } finally {
          inFlight.delete(scope);
        }
      },
    };
    try {
      return await fn(lock);
    } finally {
      renewal.cancel();
      await renewing;
    }
  } finally {
    wanted = false;
    const held = grant;
    if (held) {
      await CancellationScope.nonCancellable(() => release(held.leaseToken));
    } else if (requested) {
      // Gave up waiting: leave the queue now rather than when the lock would have been granted.
      await CancellationScope.nonCancellable(() =>
        getExternalWorkflowHandle(lockWorkflowId).signal(withdrawLockSignal, {
          workflowId: info.workflowId,
          runId: info.runId,
        }),
      ).catch(() => undefined); // the lock workflow has finished: there is no queue to leave
    }
  }
}

/** Whether a failure (an activity's, along its cause chain) is the fence's LOCK_LOST. */
export function isLockLost(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure) return current.type === 'LOCK_LOST';
  }
  return false;
}

// The per-config-repo mutex `repo-lock:{config_repo_id}` (docs/architecture.md). Requesters reach it with
// signal-with-start; grants go out FIFO by signal to the requesting run with a fresh lease token.
// Beyond the Temporal mutex sample it: ignores repeated requests from one run (activity retries),
// skips requesters that no longer run, expires leases a holder stops renewing (a terminated run),
// lets an operator force a release, drops queued requests whose run gave up (a withdraw signal) or
// stopped running (a periodic sweep), continues as new carrying holder and queue, and finishes
// when idle (the next signal-with-start starts a fresh run).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SharedActivities } from '../activities/types.js';
import {
  DEFAULT_REPO_LOCK_OPTIONS,
  forceReleaseSignal,
  LOCK_HOLDER_MEMO,
  LOCK_HOLDER_MEMO_PATCH,
  lockGrantedSignal,
  lockRevokedSignal,
  lockStateQuery,
  releaseLockSignal,
  renewLockSignal,
  requestLockSignal,
  viewOfLockState,
  withdrawLockSignal,
  type LockHolder,
  type LockHolderMemo,
  type LockRequest,
  type RepoLockInput,
  type RepoLockState,
} from '../domain/lock-contracts.js';

type RunRef = Pick<LockRequest, 'workflowId' | 'runId'>;
const sameRun = (a: RunRef, b: RunRef) => a.workflowId === b.workflowId && a.runId === b.runId;

const { findGoneRequesters } = proxyLocalActivities<Pick<SharedActivities, 'findGoneRequesters'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 }, // the next sweep tries again
});

export async function repoLockWorkflow(input: RepoLockInput = {}): Promise<void> {
  const options = { ...DEFAULT_REPO_LOCK_OPTIONS, ...input.options };
  const state: RepoLockState = { holder: null, queue: [], ...input.state, grants: 0 };
  let changed = false;
  let regrant = false;
  // Holders whose grant was taken, to be told so (fencing).
  const revoked: { holder: LockHolder; reason: string }[] = [];
  let nextSweepAt = Date.now() + options.sweepIntervalMs;
  // The holder as the fence reads it (LOCK_HOLDER_MEMO): published whenever it changes, before
  // the lock signals anyone about the change, so a former holder's token stops passing no later
  // than the next holder is granted.
  const publishesHolder = patched(LOCK_HOLDER_MEMO_PATCH);
  let published: string | null | undefined;
  const publishHolder = () => {
    const leaseToken = state.holder?.leaseToken ?? null;
    if (!publishesHolder || leaseToken === published) return;
    upsertMemo({ [LOCK_HOLDER_MEMO]: { leaseToken } satisfies LockHolderMemo });
    published = leaseToken;
  };

  setHandler(requestLockSignal, (request) => {
    if (state.holder && sameRun(state.holder, request)) {
      regrant = true; // the holder asks again: its grant signal may have been lost
    } else if (!state.queue.some((queued) => sameRun(queued, request))) {
      state.queue.push(request);
    }
    changed = true;
  });
  setHandler(withdrawLockSignal, (requester) => {
    const before = state.queue.length;
    state.queue = state.queue.filter((queued) => !sameRun(queued, requester));
    changed ||= state.queue.length !== before;
  });
  setHandler(releaseLockSignal, ({ leaseToken }) => {
    if (state.holder?.leaseToken !== leaseToken) return; // stale: an earlier grant
    state.holder = null;
    changed = true;
  });
  setHandler(renewLockSignal, ({ leaseToken }) => {
    if (state.holder?.leaseToken !== leaseToken) return;
    state.holder.expiresAt = Date.now() + state.holder.leaseMs;
    changed = true;
  });
  setHandler(forceReleaseSignal, ({ reason }) => {
    if (!state.holder) return;
    log.warn('lock force-released by operator', { holder: state.holder.workflowId, reason });
    revoked.push({ holder: state.holder, reason: `force-released by an operator${reason ? `: ${reason}` : ''}` });
    state.holder = null;
    changed = true;
  });
  setHandler(lockStateQuery, () => viewOfLockState(state));

  for (;;) {
    publishHolder();
    // Tell a revoked holder before anyone else gets the lock.
    while (revoked.length > 0) {
      const { holder, reason } = revoked.shift() as (typeof revoked)[number];
      await signalRevoked(holder, reason);
    }
    await grantWhileFree(state);
    publishHolder();
    if (regrant && state.holder) {
      regrant = false;
      await signalGrant(state.holder, state.holder.leaseToken);
    }
    if (workflowInfo().continueAsNewSuggested || state.grants >= options.maxGrantsPerRun) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof repoLockWorkflow>({ options: input.options, state });
    }
    changed = false;
    if (!state.holder) {
      if (state.queue.length > 0) continue;
      if (!(await condition(() => changed, options.idleTimeoutMs))) {
        await condition(allHandlersFinished);
        return; // idle: nobody holds or wants the lock
      }
      continue;
    }
    const remaining = state.holder.expiresAt - Date.now();
    if (remaining <= 0) {
      log.warn('lock lease expired', { holder: state.holder.workflowId });
      revoked.push({ holder: state.holder, reason: 'its lease expired (the holder stopped renewing it)' });
      state.holder = null;
      continue;
    }
    if (state.queue.length === 0) {
      await condition(() => changed, remaining);
      continue;
    }
    // Requests wait behind the holder: drop those whose run stopped without withdrawing (terminated).
    if (Date.now() >= nextSweepAt) {
      await dropGoneRequesters(state);
      nextSweepAt = Date.now() + options.sweepIntervalMs;
      continue;
    }
    await condition(() => changed, Math.min(remaining, nextSweepAt - Date.now()));
  }
}

async function dropGoneRequesters(state: RepoLockState): Promise<void> {
  const lookedUp = [...state.queue];
  const gone: string[] = await findGoneRequesters({ workflowIds: lookedUp.map((r) => r.workflowId) }).catch(
    (error: unknown) => {
      log.info('could not look up queued requesters; trying again at the next sweep', { error: String(error) });
      return [];
    },
  );
  if (gone.length === 0) return;
  log.info('dropping queued requesters that no longer run', { gone });
  // Only requests that were looked up: one that arrived meanwhile (e.g. from a reset run) stays.
  state.queue = state.queue.filter((r) => !(lookedUp.includes(r) && gone.includes(r.workflowId)));
}

async function grantWhileFree(state: RepoLockState): Promise<void> {
  while (!state.holder) {
    const next = state.queue.shift();
    if (!next) return;
    const leaseToken = uuid4();
    if (!(await signalGrant(next, leaseToken))) continue;
    const now = Date.now();
    state.holder = { ...next, leaseToken, grantedAt: now, expiresAt: now + next.leaseMs };
    state.grants += 1;
  }
}

/**
 * False when the requester no longer runs (completed, failed, terminated): it is skipped. The grant
 * goes to the requester's current run, which is the reset run after a `temporal workflow reset`;
 * it checks the request id.
 */
async function signalGrant(request: LockRequest, leaseToken: string): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(request.workflowId).signal(lockGrantedSignal, {
      leaseToken,
      lockWorkflowId: workflowInfo().workflowId,
      requestId: request.requestId,
    });
    return true;
  } catch (error) {
    log.info('lock requester is gone; skipping it', { requester: request.workflowId, error: String(error) });
    return false;
  }
}

/** Tells a former holder its grant is gone; one that no longer runs needs no telling. */
async function signalRevoked(holder: LockHolder, reason: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(holder.workflowId).signal(lockRevokedSignal, {
      leaseToken: holder.leaseToken,
      reason,
    });
  } catch (error) {
    log.info('former lock holder is gone', { holder: holder.workflowId, error: String(error) });
  }
}

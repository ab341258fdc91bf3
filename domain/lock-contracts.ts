// Contract of the per-config-repo mutex workflow `repo-lock:{config_repo_id}` (docs/architecture.md): the
// signals and queries requesters and operators use, and the shapes they carry. No I/O here, so
// workflow code and activities both import it.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const REPO_LOCK_WORKFLOW = 'repoLockWorkflow';

export function repoLockWorkflowId(configRepoId: string): string {
  return `repo-lock:${configRepoId}`;
}

export interface LockRequest {
  /** The requesting workflow; the grant is signalled to its current run. */
  workflowId: string;
  runId: string;
  /**
   * Chosen by the requester for this request. A grant
   * carries it back, and a requester accepts only the grant for its current request: after a
   * `temporal workflow reset`, the original run's grant is re-applied to the new run, which must
   * hand it back instead of working without the lock.
   */
  requestId: string;
  /** How long the grant lasts without renewal. */
  leaseMs: number;
}

export interface LockGrant {
  /** Unique per grant: release and renew must present it, so a stale holder cannot free a later grant. */
  leaseToken: string;
  lockWorkflowId: string;
  /** The request this grant answers. */
  requestId: string;
}

export interface LockHolder extends LockRequest {
  leaseToken: string;
  grantedAt: number;
  expiresAt: number;
}

export interface RepoLockState {
  holder: LockHolder | null;
  queue: LockRequest[];
  /** Grants made by this run (continue-as-new resets it). */
  grants: number;
}

/** What `lockState` answers: the state with readable times (ISO 8601, UTC). */
export interface RepoLockView {
  holder: (Omit<LockHolder, 'grantedAt' | 'expiresAt'> & { grantedAt: string; expiresAt: string }) | null;
  queue: LockRequest[];
  grants: number;
}

export function viewOfLockState(state: RepoLockState): RepoLockView {
  const holder =
    state.holder === null
      ? null
      : {
          ...state.holder,
          grantedAt: new Date(state.holder.grantedAt).toISOString(),
          expiresAt: new Date(state.holder.expiresAt).toISOString(),
        };
  return { holder, queue: state.queue, grants: state.grants };
}

export interface RepoLockOptions {
  /** Continue as new after this many grants even if the server has not suggested it. */
  maxGrantsPerRun: number;
  /** Finish when nobody has held or wanted the lock for this long; signal-with-start revives it. */
  idleTimeoutMs: number;
  /** While requests wait, look this often for requesters that stopped running (terminated) and drop them. */
  sweepIntervalMs: number;
}

export const DEFAULT_REPO_LOCK_OPTIONS: RepoLockOptions = {
  maxGrantsPerRun: 500,
  idleTimeoutMs: 5 * 60_000,
  sweepIntervalMs: 60_000,
};

export interface RepoLockInput {
  options?: Partial<RepoLockOptions>;
  /** Carried over by continue-as-new. */
  state?: RepoLockState;
}

/** Requester → lock: enqueue me (a repeated request from the same run is ignored). */
export const requestLockSignal = defineSignal<[LockRequest]>('requestLock');
/** Requester → lock: drop my queued request (the run gave up waiting: cancelled or failed). */
export const withdrawLockSignal = defineSignal<[{ workflowId: string; runId: string }]>('withdrawLock');
/** Holder → lock: I am done. */
export const releaseLockSignal = defineSignal<[{ leaseToken: string }]>('releaseLock');
/** Holder → lock: extend my lease by its length from now. */
export const renewLockSignal = defineSignal<[{ leaseToken: string }]>('renewLock');
/**
 * Operator → lock: take the lock from its holder now (e.g. a stuck run); `temporal workflow signal
 * --name forceRelease`.
 */
export const forceReleaseSignal = defineSignal<[{ reason?: string }]>('forceRelease');
/**
 * Lock → holder: your grant is gone (an operator's forceRelease, or the lease expired); stop before
 * the next side effect. Sent to the holder's current run.
 */
export const lockRevokedSignal = defineSignal<[{ leaseToken: string; reason: string }]>('lockRevoked');
/** What a side-effect activity presents to prove its run still holds the repo lock (a fencing token). */
export interface LockFence {
  configRepoId: string;
  leaseToken: string;
}
/**
 * The memo key under which the lock workflow publishes its holder's lease token (`null` when nobody
 * holds it), updated in the same workflow task that changes the holder: the fence reads it with a
 * describe call, which the server answers alone (a query travels to the lock's worker and back).
 * Lock runs started before it existed do not publish it; the fence queries them.
 */
export const LOCK_HOLDER_MEMO = 'repoLockHolder';
export interface LockHolderMemo {
  leaseToken: string | null;
}
/** The Temporal patch under which lock runs publish LOCK_HOLDER_MEMO. */
export const LOCK_HOLDER_MEMO_PATCH = 'lock-holder-memo';
/** Lock → requester: the lock is yours. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('lockGranted');
/** Holder and queue, for operators (`temporal workflow query --type lockState`). */
export const lockStateQuery = defineQuery<RepoLockView>('lockState');

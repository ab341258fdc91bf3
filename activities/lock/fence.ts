// Fencing: an activity with a side effect (push, open PR, comment, mark the proposal)
// presents its run's lease token, and runs only while the repo lock still has that holder. The
// workflow stops at its own check when the lock told it the grant is gone; this one closes the
// window where that signal has not arrived yet.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { AppError } from '../../domain/errors.js';
import {
  LOCK_HOLDER_MEMO,
  lockStateQuery,
  repoLockWorkflowId,
  type LockFence,
  type LockHolderMemo,
} from '../../domain/lock-contracts.js';
import { wrapActivities } from '../wrap-activities.js';

/** The activities that act on GitHub or the proposal row; their input may carry a fence. */
export const FENCED_ACTIVITIES = [
  'pushBranch',
  'openPullRequest',
  'commentChart',
  'markProposalOpened',
  'supersedeOlderPrs',
] as const;

/** LOCK_LOST unless the lock's holder presents `fence.leaseToken`; a query that fails is retried. */
export async function assertLockHeld(client: Client, fence: LockFence): Promise<void> {
  const holderToken = await queryHolderToken(client, fence.configRepoId);
  if (holderToken !== fence.leaseToken) {
    throw new AppError({
      code: 'LOCK_LOST',
      message: `the repo lock of config repo ${fence.configRepoId} is no longer held by this run (${holderToken === null ? 'nobody holds it' : 'another run holds it'}); nothing was done — POST open_pr again`,
    });
  }
}

/**
 * The lock's holder as its workflow last decided it: the token it publishes in its memo, read by a
 * describe call the server answers alone. The memo changes in the workflow task that changes the
 * holder, before the lock signals the former or the next holder, so a revoked token fails here no
 * later than another run can be granted the lock. A lock run that does not publish it (started
 * before the memo existed) is queried, as before. A failed call fails the attempt, and the step's
 * retry policy asks again (docs/operations.md "Who retries what").
 */
async function queryHolderToken(client: Client, configRepoId: string): Promise<string | null> {
  const handle = client.workflow.getHandle(repoLockWorkflowId(configRepoId));
  try {
    const published = publishedHolder((await handle.describe()).memo);
    return published !== undefined ? published : ((await handle.query(lockStateQuery)).holder?.leaseToken ?? null);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null; // no lock workflow at all: nobody holds it
    throw error;
  }
}

/** The lease token a lock run published (null: nobody holds it); undefined when it publishes none. */
export function publishedHolder(memo: Record<string, unknown> | undefined): string | null | undefined {
  const published = memo?.[LOCK_HOLDER_MEMO];
  if (typeof published !== 'object' || published === null || !('leaseToken' in published)) return undefined;
  const { leaseToken } = published as LockHolderMemo;
  return typeof leaseToken === 'string' ? leaseToken : null;
}

/** Checks the fence of every fenced activity before it runs. */
export function withLockFence<T extends object>(activities: T, client: Client): T {
  return wrapActivities(activities, (fn, name) => {
    if (!(FENCED_ACTIVITIES as readonly string[]).includes(name)) return fn;
    return async (...args) => {
      const fence = (args[0] as { fence?: LockFence } | undefined)?.fence;
      if (fence !== undefined) await assertLockHeld(client, fence);
      return fn(...args);
    };
  });
}

// Fencing: an activity with a side effect (push, open PR, comment, mark the proposal)
// presents its run's lease token, and runs only while the repo lock still has that holder. The
// workflow stops at its own check when the lock told it the grant is gone; this one closes the
// window where that signal has not arrived yet.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { AppError } from '../../domain/errors.js';
import { lockStateQuery, repoLockWorkflowId, type LockFence } from '../../domain/lock-contracts.js';
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
 * A query can fail for a moment when the lock workflow's cached copy sat on a worker that just
 * died: that failure fails the attempt, and the step's retry policy asks again (docs/operations.md
 * "Who retries what").
 */
async function queryHolderToken(client: Client, configRepoId: string): Promise<string | null> {
  try {
    return (
      (await client.workflow.getHandle(repoLockWorkflowId(configRepoId)).query(lockStateQuery)).holder?.leaseToken ??
      null
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null; // no lock workflow at all: nobody holds it
    throw error;
  }
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

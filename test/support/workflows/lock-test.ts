// Workflows for the repo-lock tests: the real lock workflow plus a requester that records when it
// holds the lock (through an activity) so a test can check mutual exclusion and order.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { LockActivities } from '../../../activities/lock/request-lock.js';
import { withRepoLock } from '../../../workflows/repo-lock-client.js';
import type { LockTestActivities } from '../lock-test-activities.js';
import { releaseHoldSignal } from './lock-test-contract.js';

export { repoLockWorkflow } from '../../../workflows/repo-lock.js';

const lockActivities = proxyActivities<LockActivities>({ startToCloseTimeout: '10 seconds' });
const { record } = proxyActivities<LockTestActivities>({ startToCloseTimeout: '10 seconds' });

export interface HolderInput {
  configRepoId: string;
  label: string;
  holdMs: number;
  leaseMs: number;
  fail?: boolean;
}

export async function lockHolderWorkflow(input: HolderInput): Promise<void> {
  let released = false;
  setHandler(releaseHoldSignal, () => {
    released = true;
  });
  await withRepoLock(lockActivities, { configRepoId: input.configRepoId, leaseMs: input.leaseMs }, async () => {
    await record(`${input.label}:acquired`);
    await condition(() => released, input.holdMs);
    if (input.fail) throw ApplicationFailure.nonRetryable('holder failed on purpose', 'TEST_FAILURE');
    await record(`${input.label}:done`);
  });
}

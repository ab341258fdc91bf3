// Reaches the repo lock by signal-with-start (docs/architecture.md): starts `repo-lock:{id}` if it is not
// running and enqueues the request in one atomic call. Repeating it (activity retry) is harmless:
// the lock ignores a second request from the same run.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  REPO_LOCK_WORKFLOW,
  repoLockWorkflowId,
  requestLockSignal,
  type LockRequest,
  type RepoLockOptions,
} from '../../domain/lock-contracts.js';
import { SEARCH_ATTRIBUTES } from '../../domain/temporal-contracts.js';

export interface LockActivityDeps {
  client: Client;
  /** Task queue the lock workflow runs on (the shared one). */
  taskQueue: string;
  lockOptions?: Partial<RepoLockOptions>;
}

export function createLockActivities({ client, taskQueue, lockOptions }: LockActivityDeps) {
  return {
    async requestRepoLock({ configRepoId, request }: { configRepoId: string; request: LockRequest }): Promise<void> {
      await client.workflow.signalWithStart(REPO_LOCK_WORKFLOW, {
        workflowId: repoLockWorkflowId(configRepoId),
        taskQueue,
        args: [{ options: lockOptions }],
        signal: requestLockSignal,
        signalArgs: [request],
        staticSummary: `Mutex serializing pull requests to config repo ${configRepoId}`,
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.configRepoId, value: configRepoId }],
      });
    },

    /**
     * The requesters (workflow ids) whose current run is no longer running: terminated, timed
     * out, or gone altogether. A requester that cannot be looked up now is kept. Run by the lock
     * workflow as a local activity.
     */
    async findGoneRequesters({ workflowIds }: { workflowIds: string[] }): Promise<string[]> {
      const gone = await Promise.all(
        [...new Set(workflowIds)].map(async (workflowId) => {
          try {
            return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING'
              ? null
              : workflowId;
          } catch (error) {
            return error instanceof WorkflowNotFoundError ? workflowId : null;
          }
        }),
      );
      return gone.filter((id): id is string => id !== null);
    },
  };
}

export type LockActivities = ReturnType<typeof createLockActivities>;

// Builds this process's two Temporal workers on one connection (SPEC §2): one on the shared task
// queue running the workflows and the shared activities, one on a queue of its own running the git
// activities that must share this machine's repo cache (Temporal's worker-specific task queue
// pattern). Used by worker/main.ts and by scripts/start.ts.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** A queue name unique to this process: `{shared}/git/{host}-{pid}-{random}`. */
export function createGitTaskQueueName(sharedTaskQueue: string): string {
  return `${sharedTaskQueue}/git/${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  gitTaskQueue: string;
  /** Activity implementations built by createActivities from the entry point's dependencies. */
  activities: { shared: object; git: object };
  workflowsPath?: string;
}

export interface RunningWorkers {
  workers: Worker[];
  connection: NativeConnection;
}

export async function createWorkers(opts: WorkerOptions): Promise<RunningWorkers> {
  // Bundled up front with a quiet logger: webpack's module listing is noise in the service log.
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: opts.address });
  try {
    const shared = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      workflowBundle,
      activities: opts.activities.shared,
      // Activities finish within minutes; a graceful stop lets them complete before exit.
      shutdownGraceTime: '30s',
    });
    const git = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue: opts.gitTaskQueue,
      activities: opts.activities.git,
      shutdownGraceTime: '30s',
    });
    return { workers: [shared, git], connection };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

export interface WorkersHandle {
  /** Settles when any worker stops or fails on its own. */
  done: Promise<unknown>;
  /** Graceful stop of every worker, then the connection; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts polling on every worker of `created`. */
export function runWorkers({ workers, connection }: RunningWorkers): WorkersHandle {
  const running = workers.map((w) => w.run());
  let stopping: Promise<void> | undefined;
  return {
    done: Promise.race(running),
    stop: () => (stopping ??= (async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await connection.close();
    })()),
  };
}

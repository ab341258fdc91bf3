// Builds a Worker on the shared task queue. Used by worker/main.ts (a worker process on its own,
// for horizontal scaling) and by scripts/start.ts (the embedded single-process default).
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Activity implementations built by their factories from the entry point's dependencies. */
  activities: object;
  workflowsPath?: string;
}

export interface RunningWorker {
  worker: Worker;
  connection: NativeConnection;
}

export async function createWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: opts.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH,
      activities: opts.activities,
      // Git steps run minutes at most; a graceful stop lets them finish before the process exits.
      shutdownGraceTime: '30s',
    });
    return { worker, connection };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

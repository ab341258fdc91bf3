// Builds this process's two Temporal workers on one connection (docs/architecture.md): one on the shared task
// queue running the workflows and the shared activities, one on a queue of its own running the git
// activities that must share this machine's repo cache (Temporal's worker-specific task queue
// pattern). Used by worker/main.ts and by service/main.ts.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type InjectedSinks } from '@temporalio/worker';
import { wrapActivities } from '../activities/wrap-activities.js';
import type { Config } from '../domain/config.js';
import type { MetricSinks } from '../domain/metric-sinks.js';
import type { Logger } from '../runtime/logger.js';
import type { ShutdownStack } from '../runtime/shutdown.js';
import { createWorkerMetrics, type WorkerMetrics } from '../runtime/worker-metrics.js';

/** The workflow sources next to this module (`.ts` from the sources, `.js` in the compiled dist/). */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/** Written by `npm run build` (scripts/bundle-workflows.ts); present only next to the compiled worker. */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

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
  /** How long a stopping worker lets running activities finish (default 30 s). */
  shutdownGraceMs?: number;
  /** Workflows kept in memory between tasks (RELYLOOP_WORKER_MAX_CACHED_WORKFLOWS; default 500). */
  maxCachedWorkflows?: number;
  /** Git steps run at once on this process's git queue (RELYLOOP_GIT_MAX_CONCURRENT; default 8). */
  gitMaxConcurrent?: number;
  /** Where the workflows' metric sinks report (a fresh registry when not given). */
  metrics?: WorkerMetrics;
}

/** The workflows' metric sinks (domain/metric-sinks.ts), never called while a workflow replays. */
function metricSinksOf(metrics: WorkerMetrics): InjectedSinks<MetricSinks> {
  return {
    metrics: {
      runEnded: { fn: (_info, outcome) => metrics.runEnded(outcome), callDuringReplay: false },
      stepEnded: {
        fn: (_info, step, status, seconds) => metrics.stepEnded(step, status, seconds),
        callDuringReplay: false,
      },
      reconciled: { fn: (_info, report) => metrics.reconciled(report), callDuringReplay: false },
    },
  };
}

export interface RunningWorkers {
  workers: Worker[];
  connection: NativeConnection;
  /** When this process's git activities were last busy (drain on stop). */
  gitActivity: ActivityTracker;
  shutdownGraceMs: number;
  /** Where the workflow code came from: the path of the prebuilt bundle, or `bundled at start`. */
  workflowCode: string;
}

/** Counts running activities of a set and remembers when the last one ended. */
export class ActivityTracker {
  private running = 0;
  private lastEnded = 0;

  wrap<T extends object>(activities: T): T {
    return wrapActivities(activities, (fn) => async (...args) => {
      this.running += 1;
      try {
        return await fn(...args);
      } finally {
        this.running -= 1;
        this.lastEnded = Date.now();
      }
    });
  }

  /** Milliseconds since the last activity ended; 0 while one runs. */
  idleMs(): number {
    return this.running > 0 ? 0 : Date.now() - this.lastEnded;
  }
}

/** Gap between two git steps of one run is a workflow task (milliseconds); this much quiet means none is mid-way. */
export const GIT_DRAIN_QUIET_MS = 2_000;

/**
 * A running activity learns of a cancellation from the answer to its next heartbeat; the SDK
 * sends them at most this often (default 80 % of the heartbeat timeout, 8 s here), so a cancelled
 * run's step stops within about this long.
 */
const HEARTBEAT_THROTTLE = '2 seconds';

/**
 * The compiled runtime loads the bundle `npm run build` wrote; from the sources (tests, tsx) the
 * workflows are bundled here, up front, with a quiet logger (webpack's module listing is noise).
 */
async function workflowBundleFor(workflowsPath: string | undefined): Promise<{ code: string } | { codePath: string }> {
  if (workflowsPath === undefined && existsSync(PREBUILT_WORKFLOW_BUNDLE))
    return { codePath: PREBUILT_WORKFLOW_BUNDLE };
  return bundleWorkflowCode({ workflowsPath: workflowsPath ?? WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
}

export async function createWorkers(opts: WorkerOptions): Promise<RunningWorkers> {
  const workflowBundle = await workflowBundleFor(opts.workflowsPath);
  const connection = await NativeConnection.connect({ address: opts.address });
  const shutdownGraceMs = opts.shutdownGraceMs ?? 30_000;
  const gitActivity = new ActivityTracker();
  try {
    const shared = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      workflowBundle,
      activities: opts.activities.shared,
      sinks: metricSinksOf(opts.metrics ?? createWorkerMetrics()),
      // A stopping worker lets running activities finish (a rolling restart costs no retry).
      shutdownGraceTime: shutdownGraceMs,
      // A workflow cached by a worker that died moves to the shared queue after this (default 10 s).
      stickyQueueScheduleToStartTimeout: '5s',
      maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
      // Deliberate limits (docs/operations.md "Performance"): the SDK's cache default grows with
      // the heap limit (thousands of workflows on a large machine), not with what we run.
      maxCachedWorkflows: opts.maxCachedWorkflows ?? 500,
    });
    const git = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue: opts.gitTaskQueue,
      activities: gitActivity.wrap(opts.activities.git),
      // Clones and chart renders are CPU- and memory-bound: more at once only grows the process.
      maxConcurrentActivityTaskExecutions: opts.gitMaxConcurrent ?? 8,
      shutdownGraceTime: shutdownGraceMs,
      maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    });
    const workflowCode = 'codePath' in workflowBundle ? workflowBundle.codePath : 'bundled at start';
    return { workers: [shared, git], connection, gitActivity, shutdownGraceMs, workflowCode };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

export interface WorkersHandle {
  /** Settles when any worker stops or fails on its own. */
  done: Promise<unknown>;
  /**
   * Graceful stop, safe to call twice. The shared worker stops first (no new runs claim this
   * process's git queue); the git worker keeps serving the runs that claimed it until its queue has
   * been quiet for a moment (or the grace ran out), so their remaining git steps need no new claim.
   */
  stop(): Promise<void>;
}

/** Starts polling on every worker of `created`. */
export function runWorkers({ workers, connection, gitActivity, shutdownGraceMs }: RunningWorkers): WorkersHandle {
  const running = workers.map((w) => w.run());
  const [shared, git] = workers;
  let stopping: Promise<void> | undefined;
  const stopOne = async (w: Worker | undefined, i: number) => {
    if (w?.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running.slice(i, i + 1));
  };
  return {
    done: Promise.race(running),
    stop: () =>
      (stopping ??= (async () => {
        const deadline = Date.now() + shutdownGraceMs;
        await stopOne(shared, 0);
        while (git?.getState() === 'RUNNING' && gitActivity.idleMs() < GIT_DRAIN_QUIET_MS && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await stopOne(git, 1);
        await Promise.allSettled(running);
        await connection.close();
      })()),
  };
}

/** Starts both workers polling; `done` settles if either stops or fails while running. */
export async function startWorkers(
  config: Config,
  address: string,
  buildActivities: (gitTaskQueue: string) => { shared: object; git: object },
  logger: Logger,
  shutdown: ShutdownStack,
  metrics: WorkerMetrics,
): Promise<{ done: Promise<unknown> }> {
  const gitTaskQueue = createGitTaskQueueName(config.temporalTaskQueue);
  const created = await createWorkers({
    address,
    namespace: config.temporalNamespace,
    taskQueue: config.temporalTaskQueue,
    gitTaskQueue,
    activities: buildActivities(gitTaskQueue),
    shutdownGraceMs: config.shutdownGrace,
    maxCachedWorkflows: config.workerMaxCachedWorkflows,
    gitMaxConcurrent: config.gitMaxConcurrent,
    metrics,
  });
  const workers = runWorkers(created);
  shutdown.push('workers', () => workers.stop());
  logger.info(
    {
      taskQueue: config.temporalTaskQueue,
      gitTaskQueue,
      namespace: config.temporalNamespace,
      workflowCode: created.workflowCode,
    },
    'workers polling',
  );
  return { done: workers.done };
}

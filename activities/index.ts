// Builds every activity from the worker's dependencies (wiring in entry points,
// factories here). Shared activities go on the shared task queue; git activities on this worker's
// own queue, which `claimGitWorker` hands to the workflow (worker-specific task queue pattern).
import path from 'node:path';
import { createChartProcess } from './chart/chart-process.js';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/database.js';
import { createDbGitHubPacer } from '../db/github-pacing.js';
import { hostPoliciesOf, type Config } from '../domain/config.js';
import { GITEA_PACING_RULES, GITHUB_PACING_RULES } from '../domain/github-pacing.js';
import type { RepoLockOptions } from '../domain/lock-contracts.js';
import type { OpenPrPolicy } from '../domain/open-pr-contracts.js';
import type { Redactor } from '../domain/redact.js';
import { createWorkerMetrics, type WorkerMetrics } from '../runtime/worker-metrics.js';
import { withAttemptReports } from './attempt-reports.js';
import { createDbActivities } from './db/proposal-activities.js';
import { withFailureConversion } from './failures.js';
import { currentCancellationSignal } from '../runtime/activity-context.js';
import { withHeartbeats } from './heartbeat.js';
import { createGitActivities, type GitActivityDeps } from './git/git-activities.js';
import { createGitHttpClient } from '../adapters/git/git-http-client.js';
import { createGitRepoCache } from '../adapters/git/repo-cache.js';
import { createAppTokenSource } from '../adapters/github/app-tokens.js';
import { createForgeActivities } from './forge/forge-activities.js';
import { createReconcileActivities } from './forge/reconcile-activities.js';
import { createSupersedeActivities } from './forge/supersede-activities.js';
import { createPreviewActivities } from './forge/preview-activities.js';
import { createMergeActivities } from './forge/merge-activities.js';
import type { GitHubLimiterOptions } from '../adapters/github/octokit-client.js';
import { withLockFence } from './lock/fence.js';
import { createLockActivities } from './lock/request-lock.js';
import type { GitActivities, SharedActivities } from './types.js';

export interface ActivityDeps {
  config: Config;
  db: Database;
  redactor: Redactor;
  /** Client for signal-with-start of the repo lock. */
  client: Client;
  /** This worker's own task queue for the git steps. */
  gitTaskQueue: string;
  /** The process's worker metrics (a fresh registry when not given). */
  metrics?: WorkerMetrics;
  /** Test seams; production leaves them unset. */
  githubLimiter?: GitHubLimiterOptions;
  lockOptions?: Partial<RepoLockOptions>;
  renderChart?: GitActivityDeps['renderChart'];
  /** The clock of the App token cache (tests share their GitHub sandbox's). */
  now?: () => number;
}

/** The run policy (timeouts, retry budgets) this worker's configuration asks for. */
export function policyOf(config: Config): OpenPrPolicy {
  return {
    heartbeatTimeoutMs: config.heartbeatTimeout,
    gitWorkerStartTimeoutMs: config.gitWorkerStartTimeout,
    dbStatementTimeoutMs: config.dbStatementTimeout,
    gitRetryBudgetMs: config.gitRetryBudget,
    githubRetryBudgetMs: config.githubRetryBudget,
    dbRetryBudgetMs: config.dbRetryBudget,
    mergeChecksTimeoutMs: config.mergeChecksTimeout,
    mergeReadBackMs: config.mergeReadBack,
  };
}

export function createActivities(deps: ActivityDeps): { shared: SharedActivities; git: GitActivities } {
  const { config, redactor } = deps;
  const metrics = deps.metrics ?? createWorkerMetrics();
  // One App token source per process: installation tokens are kept in memory until near expiry.
  const access = {
    secretsDir: config.secretsDir,
    redactor,
    hostPolicies: hostPoliciesOf(config),
    appTokens: createAppTokenSource({ redactor, ...(deps.now === undefined ? {} : { now: deps.now }) }),
  };
  // Shared through the database: every worker process using a token keeps to its pacing.
  const pacer = createDbGitHubPacer(deps.db.sql, {
    ...GITHUB_PACING_RULES,
    writeGapMs: deps.githubLimiter?.writeMinTimeMs ?? config.githubWriteGap,
  });
  const giteaPacer = createDbGitHubPacer(deps.db.sql, { ...GITEA_PACING_RULES, writeGapMs: config.giteaWriteGap });
  // What every activity that talks to a forge is made with.
  const forge = { ...access, pacer, giteaPacer, limiter: deps.githubLimiter };
  const shared: SharedActivities = {
    ...createDbActivities({ db: deps.db, redactor, policy: policyOf(config), metrics }),
    ...createLockActivities({
      client: deps.client,
      taskQueue: config.temporalTaskQueue,
      lockOptions: deps.lockOptions,
    }),
    ...createForgeActivities({ ...forge, relyloopBaseUrl: config.relyloopBaseUrl }),
    ...createReconcileActivities({ ...forge, db: deps.db, closedWindowMs: config.reconcileClosedWindow }),
    ...createSupersedeActivities({ ...forge, db: deps.db }),
    ...createMergeActivities({ ...forge, db: deps.db }),
    ...createPreviewActivities({ ...forge, db: deps.db, relyloopBaseUrl: config.relyloopBaseUrl }),
    claimGitWorker: async () => deps.gitTaskQueue,
  };
  const cache = createGitRepoCache({
    cacheDir: config.repoCacheDir,
    redactor,
    author: { name: config.gitAuthorName, email: config.gitAuthorEmail },
    http: createGitHttpClient({ idleTimeoutMs: config.gitIdleTimeout, signal: currentCancellationSignal }),
  });
  const git = createGitActivities({
    ...access,
    cache,
    chartDir: path.join(config.repoCacheDir, '.charts'),
    renderChart: deps.renderChart ?? createChartProcess().render,
    github: { pacer, ...(deps.githubLimiter ? { limiter: deps.githubLimiter } : {}) },
  });
  const fenced = <T extends object>(activities: T) =>
    withHeartbeats(
      withAttemptReports(withFailureConversion(withLockFence(activities, deps.client), redactor, metrics), deps.client),
    );
  metrics.knowActivities([...Object.keys(shared), ...Object.keys(git)]);
  return { shared: fenced(shared), git: fenced(git) };
}

// The one place that reads the environment. Every setting has an env var, a doc
// line and a default; `loadConfig` validates all of them once and names the env var of any bad
// value, so a typo stops start-up instead of surfacing later as an odd failure.
import path from 'node:path';
import { z } from 'zod';
import type { ForgeHostPolicies } from './github-url.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number().int().min(1).max(65_535);
const nonEmpty = z.string().trim().min(1);
/** A comma-separated list, entries trimmed and lower-cased, empty ones dropped. */
const lowerCaseList = z.string().transform((s) =>
  s
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean),
);
/** `host[:port]` (https) or `http://host[:port]` entries: the hosts of a forge and those of them reached over http. */
const forgeHostList = lowerCaseList
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^(https?:\/\/)?[a-z0-9.-]+(:\d+)?\/?$/,
          'expected host names like git.example.com, or http://host:port',
        ),
    ),
  )
  .transform((entries) => ({
    hosts: entries.map((e) => e.replace(/^https?:\/\//, '').replace(/\/$/, '')),
    httpHosts: entries.filter((e) => e.startsWith('http://')).map((e) => e.slice('http://'.length).replace(/\/$/, '')),
  }));
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

/** GitHub asks for at least this long between two mutating requests of one token. */
const GITHUB_MIN_WRITE_GAP_MS = 1_000;

/** A duration with its unit — `500ms`, `5s`, `2m`, `1h` — as milliseconds. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const duration = (min: string, max: string) =>
  z
    .string()
    .regex(DURATION, 'expected a duration like 500ms, 30s, 5m, 1h or 30d')
    .transform(parseDuration)
    .pipe(
      z.number().min(parseDuration(min), `must be at least ${min}`).max(parseDuration(max), `must be at most ${max}`),
    );

/** Milliseconds of a duration that matches DURATION. */
function parseDuration(text: string): number {
  const [, value, unit] = DURATION.exec(text) as unknown as [string, string, keyof typeof UNIT_MS];
  return Math.round(Number(value) * UNIT_MS[unit]);
}

interface Setting<T> {
  env: string;
  doc: string;
  /** Raw value used when the env var is unset or empty. */
  default?: string;
  /** What docs show as the default when it is derived from another setting. */
  derivedDefault?: string;
  schema: z.ZodType<T>;
}

function setting<T>(s: Setting<T>): Setting<T> {
  return s;
}

/** Every setting of the service, in the order docs/configuration.md lists them. */
export const SETTINGS = {
  dataDir: setting({
    env: 'RELYLOOP_DATA_DIR',
    default: './data',
    schema: nonEmpty,
    doc: 'Directory for embedded state: PGlite database, Temporal dev-server sqlite file, repo cache; on a persistent volume, since the embedded database and Temporal live there.',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    schema: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    doc: 'PostgreSQL connection string. Unset: embedded PGlite database under {data dir}/pglite.',
  }),
  temporalAddress: setting({
    env: 'TEMPORAL_ADDRESS',
    schema: z
      .string()
      .regex(/^[^\s:/]+:\d+$/, 'expected host:port')
      .optional(),
    doc: 'Temporal frontend host:port. Unset: `npm start` launches `temporal server start-dev` per temporal-dev.yaml.',
  }),
  temporalNamespace: setting({
    env: 'TEMPORAL_NAMESPACE',
    default: 'relyloop',
    schema: nonEmpty,
    doc: 'Temporal namespace the workflows run in; another one to share a Temporal cluster with other services, or to run a second deployment (staging) beside this one.',
  }),
  temporalTaskQueue: setting({
    env: 'TEMPORAL_TASK_QUEUE',
    default: 'relyloop-pr',
    schema: nonEmpty,
    doc: "Shared task queue the workers poll (git steps additionally use a per-worker queue); another one to run two deployments on one namespace without their workers taking each other's runs.",
  }),
  temporalUiUrl: setting({
    env: 'TEMPORAL_UI_URL',
    default: 'http://localhost:8233',
    schema: httpUrl,
    doc: 'Base URL of the Temporal Web UI, used for the links in API responses that take an operator to a run; set it to where operators reach the UI.',
  }),
  temporalDevConfig: setting({
    env: 'TEMPORAL_DEV_CONFIG',
    default: './temporal-dev.yaml',
    schema: nonEmpty,
    doc: 'Settings of the embedded Temporal dev server (ports, namespace, sqlite file, search attributes); another file when its ports are taken on the host. Not read when TEMPORAL_ADDRESS is set.',
  }),
  secretsDir: setting({
    env: 'RELYLOOP_SECRETS_DIR',
    default: './secrets',
    schema: nonEmpty,
    doc: 'Directory of secret files: the API token and one access token file (GitHub or Gitea) per config repo auth_ref.',
  }),
  repoCacheDir: setting({
    env: 'RELYLOOP_REPO_CACHE_DIR',
    derivedDefault: '{data dir}/repo-cache',
    schema: nonEmpty.optional(),
    doc: 'Persistent per-config-repo git caches; on a volume of its own when repos are large (a cache holds one clone per config repo per worker).',
  }),
  apiHost: setting({
    env: 'RELYLOOP_API_HOST',
    default: '127.0.0.1',
    schema: nonEmpty,
    doc: 'Interface the HTTP API listens on; 0.0.0.0 (or the pod IP) when the API is reached from other hosts, e.g. behind a load balancer.',
  }),
  apiPort: setting({
    env: 'RELYLOOP_API_PORT',
    default: '8080',
    schema: port,
    doc: 'Port the HTTP API listens on; another one when 8080 is taken on the host.',
  }),
  apiTokenFile: setting({
    env: 'RELYLOOP_API_TOKEN_FILE',
    derivedDefault: '{secrets dir}/api_token',
    schema: nonEmpty.optional(),
    doc: 'File holding the bearer token every API route but /healthz requires; elsewhere when the token is mounted by a secret store (e.g. a Kubernetes secret volume).',
  }),
  gitAuthorName: setting({
    env: 'RELYLOOP_GIT_AUTHOR_NAME',
    default: 'relyloop-bot',
    schema: nonEmpty.max(200),
    doc: 'Author and committer name of the commits the service makes (never taken from the host); set it to the bot account reviewers know, so branch protection and CODEOWNERS rules see a familiar author.',
  }),
  gitAuthorEmail: setting({
    env: 'RELYLOOP_GIT_AUTHOR_EMAIL',
    default: 'relyloop-bot@example.com',
    schema: z.email(),
    doc: "Author and committer email of the commits the service makes; GitHub links a commit to the account with this email (e.g. the bot's noreply address).",
  }),
  relyloopBaseUrl: setting({
    env: 'RELYLOOP_BASE_URL',
    schema: httpUrl.optional(),
    doc: 'RelyLoop UI base URL; when set, PR bodies link {base}/studies/{id}, so a reviewer reaches the study behind a proposal.',
  }),
  githubHosts: setting({
    env: 'RELYLOOP_GITHUB_HOSTS',
    default: 'github.com',
    schema: forgeHostList
      .refine((h) => h.hosts.length > 0, 'at least one host')
      .refine((h) => !h.httpHosts.includes('github.com'), 'github.com is always https'),
    doc: 'Comma-separated GitHub hosts config repos may live on: github.com and GitHub Enterprise hosts (`ghe.example.com`); `http://host:port` for a GitHub Enterprise Server reached over plain http inside a private network. All others use https.',
  }),
  giteaHosts: setting({
    env: 'RELYLOOP_GITEA_HOSTS',
    default: '',
    schema: forgeHostList,
    doc: 'Comma-separated Gitea or Forgejo hosts config repos may live on (their provider is `gitea`), e.g. `git.example.com`; `http://host:port` for one reached over plain http. None by default. A host is listed for one forge only.',
  }),
  giteaWriteGap: setting({
    env: 'RELYLOOP_GITEA_WRITE_GAP',
    default: '0s',
    schema: duration('0s', '1m'),
    doc: "Least time between two mutating Gitea requests with one token, across every worker. Gitea publishes no rate limits, so 0s; set a gap when the Gitea sits behind a proxy that limits request rates (above 0s its writes are also serial per token, as GitHub's are).",
  }),
  workerMetricsAddress: setting({
    env: 'RELYLOOP_WORKER_METRICS_ADDRESS',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'host:port')
      .optional(),
    doc: 'host:port where a worker process serves Prometheus metrics (Temporal SDK and open-PR workflow metrics, docs/operations.md "Metrics"); unset: not served.',
  }),
  // Reliability (docs/operations.md "Timeouts and retry budgets"). Read by workers; the open-PR
  // workflow records the worker's values when it loads the proposal.
  dbStatementTimeout: setting({
    env: 'RELYLOOP_DB_STATEMENT_TIMEOUT',
    default: '5s',
    schema: duration('100ms', '5m'),
    doc: 'PostgreSQL cancels any statement (and a wait for a pooled connection gives up) after this long, so an abandoned activity attempt can never write later. Migrations are exempt.',
  }),
  gitIdleTimeout: setting({
    env: 'RELYLOOP_GIT_IDLE_TIMEOUT',
    default: '30s',
    schema: duration('1s', '10m'),
    doc: 'A git transfer (clone, fetch, push) fails as a transient network error when the server sends nothing for this long; raise it for a very large repo whose server takes longer to start sending a pack.',
  }),
  heartbeatTimeout: setting({
    env: 'RELYLOOP_HEARTBEAT_TIMEOUT',
    default: '10s',
    schema: duration('2s', '5m'),
    doc: 'Every activity heartbeats while it runs; an attempt silent this long (its worker died) is retried elsewhere. Lower: a dead worker is replaced sooner; raise it when workers are so starved of CPU that live attempts miss heartbeats.',
  }),
  gitWorkerStartTimeout: setting({
    env: 'RELYLOOP_GIT_WORKER_START_TIMEOUT',
    default: '10s',
    schema: duration('1s', '10m'),
    doc: 'A git step its claimed worker has not picked up within this long counts as a lost worker: another is claimed and the git steps start over. Raise it when workers run so many git steps at once that a queued one waits longer than this.',
  }),
  gitRetryBudget: setting({
    env: 'RELYLOOP_GIT_RETRY_BUDGET',
    default: '5m',
    schema: duration('10s', '24h'),
    doc: 'Wall time a git step (sync, branch check, push, …) keeps retrying transient failures before the run fails with its code (CLONE_FAILED); raise it to ride out longer outages of the git server, lower it to hear of them sooner.',
  }),
  githubRetryBudget: setting({
    env: 'RELYLOOP_GITHUB_RETRY_BUDGET',
    default: '10m',
    schema: duration('10s', '24h'),
    doc: 'Wall time a GitHub step (open PR, comment) keeps retrying transient failures and rate limits before the run fails with GITHUB_API_FAILED; raise it to ride out a GitHub outage or an hour-long primary rate limit.',
  }),
  dbRetryBudget: setting({
    env: 'RELYLOOP_DB_RETRY_BUDGET',
    default: '5m',
    schema: duration('10s', '24h'),
    doc: 'Wall time a database step keeps retrying (database down, statement timeout) before the run fails; raise it to ride out a longer database failover.',
  }),
  shutdownGrace: setting({
    env: 'RELYLOOP_SHUTDOWN_GRACE',
    default: '30s',
    schema: duration('0s', '10m'),
    doc: "On SIGTERM/SIGINT a worker stops polling and gives running activities this long to finish before it exits; keep it below the deployment's own kill timeout (Kubernetes: terminationGracePeriodSeconds, 30 s by default).",
  }),
  githubWriteGap: setting({
    env: 'RELYLOOP_GITHUB_WRITE_GAP',
    default: '1s',
    schema: duration('0s', '1m'),
    doc: 'Least time between two mutating GitHub requests with one token, across every worker sharing the database (GitHub asks for at least 1 s; docs/operations.md "GitHub pacing"). Below 1s is refused while RELYLOOP_GITHUB_HOSTS lists github.com or a *.ghe.com host: only for a local GitHub sandbox or a GitHub Enterprise Server without rate limits.',
  }),
  workerMaxCachedWorkflows: setting({
    env: 'RELYLOOP_WORKER_MAX_CACHED_WORKFLOWS',
    default: '500',
    schema: z.coerce.number().int().min(0).max(100_000),
    doc: 'Workflows a worker keeps in memory between their tasks (a run not cached replays its history on its next task). Each costs tens of KB; lower it on a memory-tight worker, raise it when more runs than this are in flight at once.',
  }),
  gitMaxConcurrent: setting({
    env: 'RELYLOOP_GIT_MAX_CONCURRENT',
    default: '8',
    schema: z.coerce.number().int().min(1).max(1_000),
    doc: "Git steps (clone, fetch, commit, push, chart) one worker runs at once; they are CPU- and memory-bound, more waits in the queue instead of growing the process. Size it to the worker's cores and memory.",
  }),
  reconcileInterval: setting({
    env: 'RELYLOOP_RECONCILE_INTERVAL',
    default: '15m',
    schema: duration('1m', '24h'),
    doc: 'How often the Temporal Schedule `relyloop-reconcile-pr-states` reads back from GitHub every PR still recorded open and fixes what a missed webhook left (docs/operations.md "Webhooks"). Workers bring the schedule in line with this at start.',
  }),
  reconcileClosedWindow: setting({
    env: 'RELYLOOP_RECONCILE_CLOSED_WINDOW',
    default: '30d',
    schema: duration('1h', '365d'),
    doc: 'How long the reconciliation keeps reading back a PR recorded closed (a closed PR can be reopened; a merge is final). A PR reopened after that, while its reopen webhook was lost, stays recorded closed until another webhook about it arrives; POST /config-repos/{id}/reconcile reads only within the window too.',
  }),
  mergeChecksTimeout: setting({
    env: 'RELYLOOP_MERGE_CHECKS_TIMEOUT',
    default: '3d',
    schema: duration('5s', '30d'),
    doc: "Merge when green: how long the service waits for a PR's required checks before it gives up (merge_state timed_out; GitHub's auto-merge is disabled then). Raise it for slow CI; the wait holds no lock and no worker slot.",
  }),
  mergeReadBack: setting({
    env: 'RELYLOOP_MERGE_READBACK_INTERVAL',
    default: '5m',
    schema: duration('1s', '1h'),
    doc: 'Merge when green: how often a waiting merge reads the checks back from GitHub when no webhook told it of a change. Webhooks (check_run, check_suite, status) wake it at once; lower this for repos without them, at the cost of requests.',
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    default: 'info',
    schema: z.enum(LOG_LEVELS),
    doc: 'Log level: fatal, error, warn, info, debug, trace or silent; debug while diagnosing a run (tokens are redacted at every level).',
  }),
} as const;

type Settings = typeof SETTINGS;
type Raw = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

export interface Config extends Omit<Raw, 'repoCacheDir' | 'apiTokenFile'> {
  repoCacheDir: string;
  apiTokenFile: string;
  /**
   * What the service takes of its host's environment besides its settings: where to find programs
   * (the `temporal` CLI, setpriv) and the user's home and cache, for the child processes it starts
   * — which get nothing else of the environment.
   */
  host: HostEnv;
}

export interface HostEnv {
  PATH: string;
  HOME: string;
  /** Unset: `{HOME}/.cache`. */
  XDG_CACHE_HOME?: string;
}

/** Settings of earlier releases: set, they stop start-up with what to do instead (CHANGELOG.md). */
const REMOVED_SETTINGS: Record<string, string> = {
  RELYLOOP_GITHUB_HTTP_HOSTS: 'removed; list those hosts in RELYLOOP_GITHUB_HOSTS as http://host:port',
  TEMPORAL_CLI: 'removed; put the temporal CLI on PATH (or let npm run setup install it)',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates every setting from `env` (default: the process environment). Relative paths are
 * resolved against `cwd`. Throws a ConfigError naming each bad env var.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    const value = env[s.env];
    const input = value === undefined || value === '' ? s.default : value;
    const parsed = s.schema.safeParse(input);
    if (parsed.success) raw[key] = parsed.data;
    else
      problems.push(
        `${s.env}=${JSON.stringify(value ?? null)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
  }
  for (const [name, instead] of Object.entries(REMOVED_SETTINGS))
    if (env[name] !== undefined && env[name] !== '') problems.push(`${name}: ${instead}`);
  const r = raw as Raw;
  if (problems.length === 0) {
    const both = r.githubHosts.hosts.filter((h) => r.giteaHosts.hosts.includes(h));
    if (both.length > 0)
      problems.push(
        `RELYLOOP_GITEA_HOSTS=${JSON.stringify(env.RELYLOOP_GITEA_HOSTS ?? null)}: ${both.join(', ')} also in RELYLOOP_GITHUB_HOSTS; a host serves one forge`,
      );
    // GitHub's published rule for its own hosts (docs/operations.md "GitHub pacing"): a shorter gap
    // is for a local sandbox or a GitHub Enterprise Server without rate limits only.
    const githubRun = r.githubHosts.hosts.filter((h) => /^(github\.com|[a-z0-9-]+\.ghe\.com)(:\d+)?$/.test(h));
    if (r.githubWriteGap < GITHUB_MIN_WRITE_GAP_MS && githubRun.length > 0) {
      problems.push(
        `RELYLOOP_GITHUB_WRITE_GAP=${JSON.stringify(env.RELYLOOP_GITHUB_WRITE_GAP ?? null)}: below GitHub's published 1s while RELYLOOP_GITHUB_HOSTS lists ${githubRun.join(', ')}`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const abs = (p: string) => path.resolve(cwd, p);
  const dataDir = abs(r.dataDir);
  const secretsDir = abs(r.secretsDir);
  return {
    ...r,
    dataDir,
    secretsDir,
    temporalDevConfig: abs(r.temporalDevConfig),
    repoCacheDir: r.repoCacheDir === undefined ? path.join(dataDir, 'repo-cache') : abs(r.repoCacheDir),
    apiTokenFile: r.apiTokenFile === undefined ? path.join(secretsDir, 'api_token') : abs(r.apiTokenFile),
    host: {
      PATH: env.PATH ?? '/usr/bin:/bin',
      HOME: env.HOME ?? '/',
      ...(env.XDG_CACHE_HOME ? { XDG_CACHE_HOME: env.XDG_CACHE_HOME } : {}),
    },
  };
}

/** The hosts config repos may live on, per forge. */
export function hostPoliciesOf(config: Pick<Config, 'githubHosts' | 'giteaHosts'>): ForgeHostPolicies {
  return { github: config.githubHosts, gitea: config.giteaHosts };
}

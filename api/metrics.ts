// GET /metrics: Prometheus text for the API process, behind the bearer token like every
// route but /healthz (docs/api.md; Prometheus sends it with `authorization.credentials_file`).
// - HTTP: requests by method, route pattern and status, and their durations.
// - Proposals: how many per status, and pending ones carrying a recorded failure per error code
//   (read from the database at scrape time, so every API replica reports the same truth).
// - Runs in flight: running open-PR runs per step and the age of the oldest at each, and per config
//   repo the runs waiting for its lock (the lock queue) and the oldest wait, from Temporal's
//   visibility store at scrape time (OpenPrStep, OpenPrStepSince) — one list call, and the same
//   answer from every replica whichever worker holds a lock workflow. A wait that never ends
//   shows here as it grows (the step histogram only sees steps that ended).
// - Every series an alert reads exists at 0 before its first event.
// - Redactions: secrets this process kept out of a log line, failure or GitHub text.
// - The Node process: CPU, memory (RSS, heap), event-loop lag, handles (prom-client defaults).
// Workers export the Temporal SDK's metrics and the workflow's own on their own endpoint
// (RELYLOOP_WORKER_METRICS_ADDRESS, worker/temporal-runtime.ts).
import { Router, type RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';
import { RUN_FAILURE_CODES } from '../domain/errors.js';
import { OPEN_PR_STEPS, OPEN_PR_WORKFLOW } from '../domain/open-pr-contracts.js';
import { registerRedactionCounter } from '../runtime/redaction-metric.js';
import type { RedactionCounts } from '../domain/redact.js';
import { PROPOSAL_STATUSES } from './schemas/proposals.js';
import { SEARCH_ATTRIBUTES } from '../domain/temporal-contracts.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';

/** A scrape must answer even when Temporal does not. */
const VISIBILITY_DEADLINE_MS = 3_000;
/** Beyond this many running runs the gauges are partial (and say so through `…_truncated`). */
const MAX_RUNS_LISTED = 10_000;

interface RunsInFlight {
  byStep: Map<string, number>;
  /** Per step, when its oldest running run entered it (ms since the epoch). */
  oldestAtStep: Map<string, number>;
  lockWaitersByRepo: Map<string, number>;
  /** Per config repo, since when its oldest waiter waits for the lock. */
  oldestWaiterByRepo: Map<string, number>;
  truncated: boolean;
}

const keepOldest = (map: Map<string, number>, key: string, at: number | undefined) => {
  if (at !== undefined && at < (map.get(key) ?? Infinity)) map.set(key, at);
};

async function listRunsInFlight(temporal: TemporalHandle): Promise<RunsInFlight> {
  const found: RunsInFlight = {
    byStep: new Map(),
    oldestAtStep: new Map(),
    lockWaitersByRepo: new Map(),
    oldestWaiterByRepo: new Map(),
    truncated: false,
  };
  let seen = 0;
  await temporal.connection.withDeadline(Date.now() + VISIBILITY_DEADLINE_MS, async () => {
    for await (const run of temporal.client.workflow.list({
      query: `WorkflowType = '${OPEN_PR_WORKFLOW}' AND ExecutionStatus = 'Running'`,
      pageSize: 1_000,
    })) {
      if (++seen > MAX_RUNS_LISTED) return;
      const step = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.openPrStep) ?? 'none';
      // A run that has not reported its step's start yet counts from its own start.
      const since = (run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.openPrStepSince) ?? run.startTime).getTime();
      found.byStep.set(step, (found.byStep.get(step) ?? 0) + 1);
      keepOldest(found.oldestAtStep, step, since);
      const repo = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.configRepoId);
      if (step === 'lock' && repo !== undefined) {
        found.lockWaitersByRepo.set(repo, (found.lockWaitersByRepo.get(repo) ?? 0) + 1);
        keepOldest(found.oldestWaiterByRepo, repo, since);
      }
    }
  });
  found.truncated = seen > MAX_RUNS_LISTED;
  return found;
}

export interface ApiMetrics {
  /** Counts and times every response (mount before the routes). */
  middleware: RequestHandler;
  routes(auth: RequestHandler): Router;
}

export function createApiMetrics(db: Database, temporal: TemporalHandle, redactionCounts: RedactionCounts): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relyloop_api_' });
  // prom-client also names three gauges `…_total`, a suffix Prometheus keeps for counters; the
  // same figures are there by type as `relyloop_api_nodejs_active_{handles,requests,resources}`.
  for (const kind of ['handles', 'requests', 'resources'] as const) {
    registry.removeSingleMetric(`relyloop_api_nodejs_active_${kind}_total`);
  }
  const requests = new Counter({
    name: 'relyloop_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'relyloop_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'relyloop_proposals',
    help: 'Proposals by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      // Every label at 0 first, so each series exists before its first event.
      for (const status of PROPOSAL_STATUSES) this.set({ status }, 0);
      const rows = await db.sql.query<{ status: string; n: number }>(
        'SELECT status::text AS status, count(*)::int AS n FROM proposals GROUP BY status',
      );
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'relyloop_proposals_failed',
    help: 'Pending proposals whose last open-PR run failed, by error code (pr_open_error).',
    labelNames: ['code'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const code of RUN_FAILURE_CODES) this.set({ code }, 0);
      const rows = await db.sql.query<{ code: string; n: number }>(
        `SELECT split_part(pr_open_error, ':', 1) AS code, count(*)::int AS n FROM proposals
          WHERE status = 'pending' AND pr_open_error IS NOT NULL GROUP BY 1`,
      );
      for (const r of rows) this.set({ code: r.code }, r.n);
    },
  });

  // One visibility listing per scrape (made by the route below), read by the gauges; per config
  // repo, every repo the database knows (0 when nobody waits).
  let inFlight: RunsInFlight | undefined;
  let configRepoIds: string[] = [];
  new Gauge({
    name: 'relyloop_temporal_visibility_up',
    help: '1 if this scrape listed the running open-PR runs from Temporal, 0.5 if the list was cut at 10,000, 0 if Temporal did not answer (the run gauges are then absent).',
    registers: [registry],
    collect() {
      this.set(inFlight === undefined ? 0 : inFlight.truncated ? 0.5 : 1);
    },
  });
  /** A gauge over the scrape's listing: every key of `keys` at 0, then the listed values. */
  const inFlightGauge = (
    name: string,
    help: string,
    label: 'step' | 'config_repo_id',
    keys: () => readonly string[],
    values: (f: RunsInFlight) => Map<string, number>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        if (inFlight === undefined) return;
        for (const key of keys()) this.set({ [label]: key }, 0);
        for (const [key, value] of values(inFlight)) this.set({ [label]: key }, value);
      },
    });
  const secondsSince = (since: Map<string, number>) =>
    new Map([...since].map(([key, at]) => [key, Math.max(0, (Date.now() - at) / 1000)]));
  inFlightGauge(
    'relyloop_open_pr_runs_running',
    'Running open-PR runs by the step they are at (OpenPrStep).',
    'step',
    () => OPEN_PR_STEPS,
    (f) => f.byStep,
  );
  inFlightGauge(
    'relyloop_open_pr_step_oldest_seconds',
    'How long the oldest running open-PR run at each step has been at it (0: none there); step="lock" is the longest wait for a repo lock.',
    'step',
    () => OPEN_PR_STEPS,
    (f) => secondsSince(f.oldestAtStep),
  );
  inFlightGauge(
    'relyloop_repo_lock_waiting',
    "Open-PR runs waiting for a config repo's lock (its queue length), by config repo.",
    'config_repo_id',
    () => configRepoIds,
    (f) => f.lockWaitersByRepo,
  );
  inFlightGauge(
    'relyloop_repo_lock_oldest_wait_seconds',
    "How long the oldest run waiting for a config repo's lock has waited (0: nobody waits), by config repo.",
    'config_repo_id',
    () => configRepoIds,
    (f) => secondsSince(f.oldestWaiterByRepo),
  );
  registerRedactionCounter(registry, redactionCounts);

  const middleware: RequestHandler = (req, res, next) => {
    const stop = durations.startTimer();
    res.on('finish', () => {
      // The matched pattern (`/api/v1/proposals/:id`), never the raw path: labels stay few.
      const route =
        req.route === undefined ? 'unmatched' : `${req.baseUrl}${String((req.route as { path: unknown }).path)}`;
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      stop({ method: req.method, route });
    });
    next();
  };

  return {
    middleware,
    routes(auth) {
      const router = Router();
      router.get('/metrics', auth, async (_req, res) => {
        inFlight = await listRunsInFlight(temporal).catch(() => undefined);
        configRepoIds = (await db.sql.query<{ id: string }>('SELECT id FROM config_repos ORDER BY id')).map(
          (r) => r.id,
        );
        res.type(registry.contentType).send(await registry.metrics());
      });
      return router;
    },
  };
}

// GET /metrics (issue 10): Prometheus text for the API process, behind the bearer token like every
// route but /healthz (SPEC §4; Prometheus sends it with `authorization.credentials_file`).
// - HTTP: requests by method, route pattern and status, and their durations.
// - Proposals: how many per status, and pending ones carrying a recorded failure per error code
//   (read from the database at scrape time, so every API replica reports the same truth).
// - Runs in flight: running open-PR runs per step, and per config repo the runs waiting for its
//   lock (the lock queue), from Temporal's visibility store at scrape time — one list call, and
//   the same answer from every replica whichever worker holds a lock workflow.
// - Redactions: secrets this process kept out of a log line, failure or GitHub text.
// - The Node process: CPU, memory (RSS, heap), event-loop lag, handles (prom-client defaults).
// Workers export the Temporal SDK's metrics and the workflow's own on their own endpoint
// (RELYLOOP_WORKER_METRICS_ADDRESS, worker/temporal-runtime.ts).
import { Router, type RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';
import { OPEN_PR_WORKFLOW } from '../domain/open-pr-contracts.js';
import { redactionCounts, type RedactionKind } from '../domain/redact.js';
import { SEARCH_ATTRIBUTES } from '../domain/temporal-contracts.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';

/** A scrape must answer even when Temporal does not. */
const VISIBILITY_DEADLINE_MS = 3_000;
/** Beyond this many running runs the gauges are partial (and say so through `…_truncated`). */
const MAX_RUNS_LISTED = 10_000;

interface RunsInFlight { byStep: Map<string, number>; lockWaitersByRepo: Map<string, number>; truncated: boolean }

async function listRunsInFlight(temporal: TemporalHandle): Promise<RunsInFlight> {
  const byStep = new Map<string, number>();
  const lockWaitersByRepo = new Map<string, number>();
  let seen = 0;
  await temporal.connection.withDeadline(Date.now() + VISIBILITY_DEADLINE_MS, async () => {
    for await (const run of temporal.client.workflow.list({ query: `WorkflowType = '${OPEN_PR_WORKFLOW}' AND ExecutionStatus = 'Running'`, pageSize: 1_000 })) {
      if (++seen > MAX_RUNS_LISTED) return;
      const step = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.openPrStep) ?? 'none';
      byStep.set(step, (byStep.get(step) ?? 0) + 1);
      const repo = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.configRepoId);
      if (step === 'lock' && repo !== undefined) lockWaitersByRepo.set(repo, (lockWaitersByRepo.get(repo) ?? 0) + 1);
    }
  });
  return { byStep, lockWaitersByRepo, truncated: seen > MAX_RUNS_LISTED };
}

export interface ApiMetrics {
  /** Counts and times every response (mount before the routes). */
  middleware: RequestHandler;
  routes(auth: RequestHandler): Router;
}

export function createApiMetrics(db: Database, temporal: TemporalHandle): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relyloop_api_' });
  const requests = new Counter({
    name: 'relyloop_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [registry],
  });
  const durations = new Histogram({
    name: 'relyloop_http_request_duration_seconds', help: 'Time to answer an HTTP request, by method and route pattern.',
    labelNames: ['method', 'route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  new Gauge({
    name: 'relyloop_proposals', help: 'Proposals by status.', labelNames: ['status'] as const, registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.sql.query<{ status: string; n: number }>('SELECT status::text AS status, count(*)::int AS n FROM proposals GROUP BY status');
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'relyloop_proposals_failed', help: 'Pending proposals whose last open-PR run failed, by error code (pr_open_error).',
    labelNames: ['code'] as const, registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.sql.query<{ code: string; n: number }>(
        `SELECT split_part(pr_open_error, ':', 1) AS code, count(*)::int AS n FROM proposals
          WHERE status = 'pending' AND pr_open_error IS NOT NULL GROUP BY 1`);
      for (const r of rows) this.set({ code: r.code }, r.n);
    },
  });

  // One visibility listing per scrape (made by the route below), read by the gauges.
  let inFlight: RunsInFlight | undefined;
  new Gauge({
    name: 'relyloop_temporal_visibility_up', help: '1 if this scrape listed the running open-PR runs from Temporal, 0.5 if the list was cut at 10,000, 0 if Temporal did not answer (the run gauges are then absent).',
    registers: [registry],
    collect() {
      this.set(inFlight === undefined ? 0 : inFlight.truncated ? 0.5 : 1);
    },
  });
  new Gauge({
    name: 'relyloop_open_pr_runs_running', help: 'Running open-PR runs by the step they are at (OpenPrStep).', labelNames: ['step'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [step, n] of inFlight?.byStep ?? []) this.set({ step }, n);
    },
  });
  new Gauge({
    name: 'relyloop_repo_lock_waiting', help: 'Open-PR runs waiting for a config repo\'s lock (its queue length), by config repo.',
    labelNames: ['config_repo_id'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [repo, n] of inFlight?.lockWaitersByRepo ?? []) this.set({ config_repo_id: repo }, n);
    },
  });
  new Counter({
    name: 'relyloop_redacted_secrets_total', help: 'Secrets this process removed from a log line, failure or GitHub text, by kind.',
    labelNames: ['kind'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const kind of Object.keys(redactionCounts) as RedactionKind[]) this.inc({ kind }, redactionCounts[kind]);
    },
  });

  const middleware: RequestHandler = (req, res, next) => {
    const stop = durations.startTimer();
    res.on('finish', () => {
      // The matched pattern (`/api/v1/proposals/:id`), never the raw path: labels stay few.
      const route = req.route === undefined ? 'unmatched' : `${req.baseUrl}${String((req.route as { path: unknown }).path)}`;
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
        res.type(registry.contentType).send(await registry.metrics());
      });
      return router;
    },
  };
}

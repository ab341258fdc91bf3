// GET /metrics (issue 10): Prometheus text for the API process, behind the bearer token like every
// route but /healthz (SPEC §4; Prometheus sends it with `authorization.credentials_file`).
// - HTTP: requests by method, route pattern and status, and their durations.
// - Proposals: how many per status, and pending ones carrying a recorded failure per error code
//   (read from the database at scrape time, so every API replica reports the same truth).
// - The Node process: CPU, memory (RSS, heap), event-loop lag, handles (prom-client defaults).
// Workers export the Temporal SDK's metrics and the workflow's own on their own endpoint
// (RELYLOOP_WORKER_METRICS_ADDRESS, runtime/temporal-runtime.ts).
import { Router, type RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';

export interface ApiMetrics {
  /** Counts and times every response (mount before the routes). */
  middleware: RequestHandler;
  routes(auth: RequestHandler): Router;
}

export function createApiMetrics(db: Database): ApiMetrics {
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
        res.type(registry.contentType).send(await registry.metrics());
      });
      return router;
    },
  };
}

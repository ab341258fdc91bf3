// The Express application: wiring only. Routes receive their dependencies from here; the entry
// points (api/main.ts, service/main.ts) create those dependencies.
import express, { Router, type Express } from 'express';
import type { Config } from '../domain/config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../runtime/logger.js';
import type { Redactor } from '../domain/redact.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';
import { requireBearerToken } from './auth.js';
import { createCursorCodec } from './cursor.js';
import { errorMiddleware, notFound } from './errors.js';
import { healthRoutes } from './health.js';
import { createApiMetrics } from './metrics.js';
import { API_PREFIX, openApiRoute } from './openapi.js';
import { requestLog } from './request-log.js';
import { mountRoutes, type RouteSpec } from './route.js';
import { createRoutes } from './routes/index.js';
import { webhookRoute } from './webhooks.js';

export interface ApiDeps {
  config: Config;
  db: Database;
  temporal: TemporalHandle;
  logger: Logger;
  /** The bearer token clients must present (read from the token file by the entry point). */
  apiToken: string;
  /** The process's redactor: webhook secrets read by the API are registered with it. */
  redactor: Redactor;
}

/** docs/architecture.md "Security rules": request bodies are bounded at 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(deps.logger));
  const metrics = createApiMetrics(deps.db, deps.temporal, deps.redactor.counts);
  app.use(metrics.middleware);
  const auth = requireBearerToken(deps.apiToken);
  // docs/api.md: every route but /healthz requires the bearer token, /readyz and /metrics included.
  app.use(healthRoutes(deps.db, deps.temporal, auth));
  app.use(metrics.routes(auth));

  const routes: RouteSpec[] = createRoutes({
    config: deps.config,
    db: deps.db,
    cursors: createCursorCodec(deps.apiToken),
    temporal: deps.temporal,
    logger: deps.logger,
  });
  // The forge signs its webhooks instead of presenting the bearer token.
  routes.push(
    webhookRoute({
      config: deps.config,
      db: deps.db,
      temporal: deps.temporal,
      logger: deps.logger,
      redactor: deps.redactor,
    }),
  );
  routes.push(openApiRoute(() => routes));
  const v1 = Router();
  const limits = { maxBodyBytes: MAX_BODY_BYTES };
  // Routes that authenticate requests themselves come before the bearer check and the JSON parser.
  v1.use(
    mountRoutes(
      routes.filter((r) => r.auth === 'handler'),
      limits,
    ),
  );
  v1.use(auth);
  v1.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));
  v1.use(
    mountRoutes(
      routes.filter((r) => r.auth !== 'handler'),
      limits,
    ),
  );
  app.use(API_PREFIX, v1);

  app.use(notFound);
  app.use(errorMiddleware);
  return app;
}

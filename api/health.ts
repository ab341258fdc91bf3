// /healthz: the process is up (no dependencies checked, no auth).
// /readyz (bearer token required, docs/api.md): the database answers and the Temporal namespace is
// reachable; 503 naming what is not.
import { Router, type RequestHandler } from 'express';
import type { Database } from '../db/database.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';

export function healthRoutes(db: Database, temporal: TemporalHandle, auth: RequestHandler): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', auth, async (req, res) => {
    const [database, temporalCheck] = await Promise.allSettled([db.sql.query('SELECT 1'), temporal.checkReady()]);
    const checks = {
      database: database.status === 'fulfilled' ? 'ok' : 'unavailable',
      temporal: temporalCheck.status === 'fulfilled' ? 'ok' : 'unavailable',
    };
    const ready = checks.database === 'ok' && checks.temporal === 'ok';
    if (!ready) {
      req.log.warn(
        {
          database: database.status === 'rejected' ? database.reason : undefined,
          temporal: temporalCheck.status === 'rejected' ? temporalCheck.reason : undefined,
        },
        'not ready',
      );
    }
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  return router;
}

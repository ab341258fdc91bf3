// `npm run worker`: a worker process on its own, for horizontal scaling. It needs a shared
// database (DATABASE_URL: PGlite allows one process) and a reachable Temporal.
import { runEntryPoint } from '../runtime/process.js';
import { openServiceDatabase } from '../db/database.js';
import { resolveTemporalAddress } from '../runtime/temporal-address.js';
import { startServiceWorkers } from './service-workers.js';
import { installWorkerRuntime } from './temporal-runtime.js';

await runEntryPoint('relyloop-pr-worker', async ({ config, redactor, logger, shutdown }) => {
  if (config.databaseUrl === undefined) {
    throw new Error(
      'a separate worker needs DATABASE_URL (the embedded PGlite database allows one process; `npm start` runs a worker in-process)',
    );
  }
  const metrics = await installWorkerRuntime(config, logger, shutdown, redactor);
  const db = await openServiceDatabase(config, logger, shutdown);
  const address = await resolveTemporalAddress(config);
  const { done } = await startServiceWorkers({ config, address, db, redactor, logger, shutdown, metrics });
  return { done };
});

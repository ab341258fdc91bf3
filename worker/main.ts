// `npm run worker`: a worker process on its own, for horizontal scaling. It needs a shared
// database (DATABASE_URL: PGlite allows one process) and a reachable Temporal.
import { runEntryPoint } from '../runtime/process.js';
import { openServiceDatabase, startWorker } from '../runtime/services.js';
import { resolveTemporalAddress } from '../runtime/temporal-address.js';
import { installTemporalRuntime } from '../runtime/temporal-runtime.js';

await runEntryPoint('relyloop-pr-worker', async ({ config, logger, shutdown }) => {
  if (config.databaseUrl === undefined) {
    throw new Error('a separate worker needs DATABASE_URL (the embedded PGlite database allows one process; `npm start` runs a worker in-process)');
  }
  installTemporalRuntime(logger);
  await openServiceDatabase(config, logger, shutdown);
  return startWorker(config, await resolveTemporalAddress(config), {}, logger, shutdown);
});

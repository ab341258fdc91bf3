// `npm run api`: the HTTP API on its own (stateless; run as many as needed behind a balancer).
// Needs DATABASE_URL (PGlite allows one process) and a Temporal it reaches lazily.
import { runEntryPoint } from '../runtime/process.js';
import { readSecretPath } from '../adapters/secrets.js';
import { openServiceDatabase } from '../db/database.js';
import { startApiServer } from './server.js';
import { resolveTemporalAddress } from '../runtime/temporal-address.js';
import { createTemporalHandle } from '../adapters/temporal-client.js';

await runEntryPoint('relyloop-pr-api', async ({ config, redactor, logger, shutdown }) => {
  if (config.databaseUrl === undefined) {
    throw new Error(
      'a separate API process needs DATABASE_URL (the embedded PGlite database allows one process; use `npm start`)',
    );
  }
  const db = await openServiceDatabase(config, logger, shutdown);
  const apiToken = await readSecretPath(config.apiTokenFile, redactor);
  const temporal = createTemporalHandle(await resolveTemporalAddress(config), config.temporalNamespace);
  shutdown.push('temporal client', () => temporal.close());
  const api = await startApiServer({ config, db, temporal, logger, apiToken, redactor }, shutdown);
  logger.info({ url: api.url }, 'API listening');
  return { done: new Promise<never>(() => undefined) };
});

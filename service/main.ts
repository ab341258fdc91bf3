// `npm start`: the embedded default in one process tree. Launches the Temporal dev server (unless
// TEMPORAL_ADDRESS is set), opens and migrates the database (PGlite unless DATABASE_URL is set),
// and runs the API and a worker in this process. Ctrl-C stops all of it, newest first.
//
// The dev server is spawned first, before the rest of the service loads: its boot (≈ 0.7 s, in its
// own process) then overlaps opening the database and loading the API and the worker.
import { readDevServerSettings, startDevServer } from '../runtime/dev-server.js';
import { findTemporalCli } from '../runtime/temporal-cli.js';
import { runEntryPoint } from '../runtime/process.js';
import { settledInOrder } from '../domain/settled.js';

await runEntryPoint('relyloop-pr', async ({ config, redactor, logger, shutdown }) => {
  const failures: Promise<unknown>[] = [];

  // The dev server and the database start side by side: neither needs the other.
  const temporalReady = (async () => {
    if (config.temporalAddress !== undefined) return { address: config.temporalAddress, uiUrl: config.temporalUiUrl };
    const settings = await readDevServerSettings(config.temporalDevConfig);
    if (settings.namespace !== config.temporalNamespace) {
      throw new Error(
        `temporal-dev.yaml creates namespace "${settings.namespace}" but TEMPORAL_NAMESPACE is "${config.temporalNamespace}"`,
      );
    }
    const cli = findTemporalCli(config.host);
    logger.info({ cli }, 'starting Temporal dev server');
    const server = await startDevServer({
      cli,
      env: config.host,
      settings,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'temporal-server' }),
    });
    shutdown.push('temporal dev server', () => server.stop());
    // From the server's own exit promise: a listener attached now would miss an exit that came first.
    failures.push(
      server.exited.then((code) => {
        throw new Error(`temporal dev server exited (${code})`);
      }),
    );
    return { address: server.address, uiUrl: server.uiUrl };
  })();
  const dbReady = import('../db/database.js').then(({ openServiceDatabase }) =>
    openServiceDatabase(config, logger, shutdown),
  );
  const serviceReady = Promise.all([
    import('../worker/temporal-runtime.js'),
    import('../adapters/secrets.js'),
    import('../api/server.js'),
    import('../worker/service-workers.js'),
  ]).then(async ([{ installWorkerRuntime }, { readSecretPath }, { startApiServer }, { startServiceWorkers }]) => ({
    metrics: await installWorkerRuntime(config, logger, shutdown, redactor),
    readSecretPath,
    startApiServer,
    startServiceWorkers,
  }));
  // All settle before a failure of any is reported: whatever did start is on the shutdown list.
  const [[{ address, uiUrl }, db], { metrics, readSecretPath, startApiServer, startServiceWorkers }] =
    await settledInOrder(settledInOrder(temporalReady, dbReady), serviceReady);
  const apiToken = await readSecretPath(config.apiTokenFile, redactor).catch((error: unknown) => {
    throw new Error(`cannot read the API token at ${config.apiTokenFile} (run \`npm run setup\` to create one)`, {
      cause: error,
    });
  });
  const { temporal, done } = await startServiceWorkers({ config, address, db, redactor, logger, shutdown, metrics });
  failures.push(done);
  const api = await startApiServer({ config, db, temporal, logger, apiToken, redactor }, shutdown);

  process.stdout.write(
    [
      '',
      'relyloop-pr is running',
      `  API:             ${api.url}/api/v1  (health: ${api.url}/healthz)`,
      `  API token:       ${config.apiTokenFile}`,
      `  Temporal:        ${address}  namespace ${config.temporalNamespace}, task queue ${config.temporalTaskQueue}`,
      `  Temporal Web UI: ${uiUrl}/namespaces/${config.temporalNamespace}/workflows`,
      `  Database:        ${db.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}/pglite` : 'PostgreSQL (DATABASE_URL)'}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n') + '\n',
  );
  return { done: Promise.race(failures) };
});

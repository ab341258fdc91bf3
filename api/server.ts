// Starts the HTTP API on the configured host/port and registers its graceful close.
import type { Server } from 'node:http';
import { createApp, type ApiDeps } from './app.js';
import type { ShutdownStack } from '../runtime/shutdown.js';

export async function startApiServer(deps: ApiDeps, shutdown: ShutdownStack): Promise<{ server: Server; url: string }> {
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(deps.config.apiPort, deps.config.apiHost, () => resolve(s));
    s.once('error', reject);
  });
  shutdown.push(
    'api server',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );
  const host = deps.config.apiHost.includes(':') ? `[${deps.config.apiHost}]` : deps.config.apiHost;
  return { server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${deps.config.apiPort}` };
}

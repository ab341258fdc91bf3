// A worker process's Prometheus endpoint, http://{RELYLOOP_WORKER_METRICS_ADDRESS}/metrics: the
// Temporal SDK's own metrics (`temporal_*`, from its exporter on a private loopback port) and
// the process's (runtime/worker-metrics.ts) in one answer. The SDK labels a worker's git steps
// with the process's own task queue (`{queue}/git/{host}-{pid}-{id}`), which would start new series
// at every restart; here it reads `{queue}/git`, the same in every process and every restart.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';

/** A per-process git queue as a label value, and the stable name it is reported under. */
const PROCESS_GIT_QUEUE = /task_queue="([^"]*?)\/git\/[^"]*"/g;

export function withStableQueueNames(sdkText: string): string {
  return sdkText.replace(PROCESS_GIT_QUEUE, 'task_queue="$1/git"');
}

/** A free loopback port for the SDK's exporter, which only this endpoint reads. */
export async function freeLoopbackAddress(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `127.0.0.1:${port}`;
}

export interface WorkerMetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function serveWorkerMetrics(opts: {
  address: string;
  sdkAddress: string;
  registry: Registry;
  logger: Logger;
}): Promise<WorkerMetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    void (async () => {
      // The SDK's part is optional: an exporter that does not answer costs its series, not ours.
      const sdk = await fetch(`http://${opts.sdkAddress}/metrics`, { signal: AbortSignal.timeout(3_000) })
        .then(async (r) => (r.ok ? r.text() : ''))
        .catch((error: unknown) => {
          opts.logger.warn(
            { err: error },
            'the Temporal SDK metrics exporter did not answer; serving the worker metrics alone',
          );
          return '';
        });
      const own = await opts.registry.metrics();
      res
        .writeHead(200, { 'content-type': opts.registry.contentType })
        .end(`${withStableQueueNames(sdk).trimEnd()}\n${own}`);
    })().catch((error: unknown) => {
      opts.logger.error({ err: error }, 'worker metrics failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const [host, port] = splitAddress(opts.address);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}

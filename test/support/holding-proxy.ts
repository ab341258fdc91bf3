// An HTTP proxy in front of a real forge (Gitea) that can hold one request, so a test can
// kill a worker at a chosen step as the crash matrix does with the GitHub sandbox: `before` holds
// the request before the forge sees it; `after` forwards it, lets the forge act, and holds the
// answer (a killed worker never gets it). Everything else passes through untouched, streamed.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldMatch {
  method: string;
  /** Matched against the path and query. */
  path: RegExp;
  when: 'before' | 'after';
}

export interface HeldRequest {
  /** Resolves when the matching request arrived (`before`) or its answer did (`after`). */
  reached: Promise<void>;
  release(): void;
}

export interface HoldingProxy {
  /** `http://127.0.0.1:{port}`. */
  origin: string;
  /** `127.0.0.1:{port}`. */
  host: string;
  /** Where requests go; set once the forge listens (its ROOT_URL may name this proxy). */
  setTarget(origin: string): void;
  holdNext(match: HoldMatch): HeldRequest;
  /** Every request passed on: method, path and the forge's status. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

interface Hold extends HoldMatch {
  arrived(): void;
  released: Promise<void>;
  taken: boolean;
}

export async function startHoldingProxy(): Promise<HoldingProxy> {
  let target: URL | undefined;
  const holds: Hold[] = [];
  const requests: HoldingProxy['requests'] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, hold: Hold | undefined) => {
    if (target === undefined) {
      res.writeHead(503).end('no target');
      return;
    }
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // The Host header is passed on as a reverse proxy does: Gitea builds its links from it.
        headers: req.headers,
      },
      (answer) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: answer.statusCode ?? 0 });
        if (hold?.when !== 'after') {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        // The forge has acted: read its whole answer, then keep it until released.
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          hold.arrived();
          void hold.released.then(() => {
            if (res.destroyed) return; // its client is gone (killed): the answer reaches nobody
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          });
        });
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    const hold = holds.find((h) => !h.taken && h.method === req.method && h.path.test(req.url ?? ''));
    if (hold !== undefined) hold.taken = true;
    if (hold?.when === 'before') {
      req.pause();
      hold.arrived();
      void hold.released.then(() => {
        if (req.destroyed) return;
        req.resume();
        forward(req, res, undefined);
      });
      return;
    }
    forward(req, res, hold);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    setTarget(origin) {
      target = new URL(origin);
    },
    holdNext(match) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ ...match, arrived, released, taken: false });
      return { reached, release };
    },
    async close() {
      for (const h of holds) h.taken = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// isomorphic-git's HTTP transport, with the timeouts made explicit. Its stock Node
// client inherits Node's global agent, whose 5 s socket timeout fails a clone the moment a server
// is slow to start a big pack, with an Error that has no code. Here:
// - a request fails only after the server has sent nothing for `idleTimeoutMs` (connect, first
//   byte and every later gap alike), with code ETIMEDOUT, which the classification retries;
// - the running activity's cancellation (workflow cancelled, attempt abandoned) aborts it;
// - nothing is retried here: a failed request fails the git step's attempt, and its Temporal
//   retry policy tries the step again (docs/operations.md "Who retries what"); for a push, the
//   retried step first finds out whether the branch landed;
// - connections are kept alive per client, so the fetch and push of one run reuse a socket;
// - a redirect is followed only within the same origin (the Authorization header must not leave).
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/** Long enough for a server preparing a big pack; a silent server is still noticed in seconds. */
export const DEFAULT_GIT_IDLE_TIMEOUT_MS = 30_000;

/** Idle pooled sockets close before a typical server's 5 s keep-alive does, so none is reused stale. */
const POOLED_SOCKET_IDLE_MS = 4_000;
const MAX_REDIRECTS = 5;

export interface GitHttpClientOptions {
  idleTimeoutMs?: number;
  /** The signal that aborts a request (the running activity's cancellation). */
  signal?: () => AbortSignal | undefined;
}

export class GitTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'GitTransportError';
  }
}

export function createGitHttpClient(opts: GitHttpClientOptions = {}): HttpClient {
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_GIT_IDLE_TIMEOUT_MS;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: POOLED_SOCKET_IDLE_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: POOLED_SOCKET_IDLE_MS }),
  };

  async function send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
  ): Promise<IncomingMessage> {
    const signal = opts.signal?.();
    signal?.throwIfAborted();
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent });
      let response: IncomingMessage | undefined;
      // Fails the request, or the body being read, with an error the classification understands.
      const fail = (error: GitTransportError) => {
        response?.destroy(error);
        req.destroy(error);
      };
      const onAbort = () => fail(new GitTransportError('git transfer cancelled', 'ABORT_ERR'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(idleTimeoutMs, () =>
        fail(new GitTransportError(`git server sent nothing for ${idleTimeoutMs / 1000} s`, 'ETIMEDOUT')),
      );
      req.on('response', (res) => {
        // The socket stays under the idle timeout until the body has been read.
        response = res;
        res.on('close', () => signal?.removeEventListener('abort', onAbort));
        resolve(res);
      });
      req.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      req.end(body);
    });
  }

  return {
    async request({ url, method = 'GET', headers = {}, body }: GitHttpRequest): Promise<GitHttpResponse> {
      const payload = body === undefined ? undefined : await collect(body);
      let target = new URL(url);
      for (let redirects = 0; ; redirects++) {
        const res = await send(target, method, headers, payload);
        const location = res.headers.location;
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && location !== undefined && redirects < MAX_REDIRECTS && method === 'GET') {
          const next = new URL(location, target);
          if (next.origin === target.origin) {
            res.resume();
            target = next;
            continue;
          }
        }
        return {
          url: target.toString(),
          method,
          statusCode: status,
          statusMessage: res.statusMessage ?? '',
          headers: flatten(res.headers),
          body: res[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
        };
      }
    },
  };
}

async function collect(body: AsyncIterableIterator<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function flatten(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

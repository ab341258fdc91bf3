// Git smart HTTP through Debian's `git http-backend` (CGI). Bodies are gunzipped here (git and
// isomorphic-git send `Content-Encoding: gzip` for large requests) and `Git-Protocol` is passed
// as GIT_PROTOCOL so protocol v2 works.
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isolatedGitEnv } from './git-cli.js';

export const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/** Where http-backend's answer goes: the live response, or a buffer (to hold or drop it). */
export interface CgiSink {
  writeHead(status: number, headers?: Record<string, string>): unknown;
  write(chunk: Buffer): unknown;
  end(body?: string): unknown;
}

export interface CgiRequest {
  req: IncomingMessage;
  res: CgiSink;
  /** Decoded request body. */
  body: Buffer;
  projectRoot: string;
  /** `/{owner}/{repo}.git/...` */
  pathInfo: string;
  queryString: string;
  remoteUser: string;
  home: string;
}

/** Runs http-backend for one request and streams its answer; resolves with the HTTP status. */
export function serveGitRequest(cgi: CgiRequest): Promise<number> {
  const { req, res } = cgi;
  const env = isolatedGitEnv(cgi.home, {
    GIT_PROJECT_ROOT: cgi.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: cgi.pathInfo,
    QUERY_STRING: cgi.queryString,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    CONTENT_LENGTH: String(cgi.body.length),
    REMOTE_USER: cgi.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    ...(typeof req.headers['git-protocol'] === 'string' ? { GIT_PROTOCOL: req.headers['git-protocol'] } : {}),
  });
  return new Promise((resolve, reject) => {
    const child = spawn(HTTP_BACKEND, [], { env });
    let head = Buffer.alloc(0);
    let headersDone = false;
    let status = 200;
    const stderr: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = findHeaderEnd(head);
      if (end === null) return;
      headersDone = true;
      status = writeCgiHeaders(res, head.subarray(0, end.index).toString('latin1'));
      const rest = head.subarray(end.index + end.length);
      if (rest.length > 0) res.write(rest);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!headersDone) {
        status = 500;
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`git http-backend failed (${code}): ${Buffer.concat(stderr).toString('utf8')}`);
      } else {
        res.end();
      }
      resolve(status);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(cgi.body);
  });
}

function findHeaderEnd(buf: Buffer): { index: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return null;
  if (crlf !== -1 && (lf === -1 || crlf <= lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

function writeCgiHeaders(res: CgiSink, text: string): number {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  res.writeHead(status, headers);
  return status;
}

/** Collects an answer so the sandbox can hold it, or drop it, after the server acted. */
export class BufferedAnswer implements CgiSink {
  private status = 200;
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.status = status;
    this.headers = headers;
    return this;
  }

  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  end(body?: string): void {
    if (body !== undefined) this.chunks.push(Buffer.from(body));
  }

  sendTo(res: ServerResponse): void {
    res.writeHead(this.status, this.headers).end(Buffer.concat(this.chunks));
  }
}

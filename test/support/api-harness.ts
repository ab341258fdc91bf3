// An in-process API on a random 127.0.0.1 port over a real database (a throwaway PostgreSQL
// database or PGlite directory), with a temp secrets dir holding the API token and repo tokens.
// Temporal is a lazy handle to an address nobody listens on: the routes under test never call it.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Express } from 'express';
import { createApp } from '../../api/app.js';
import { loadConfig, type Config } from '../../domain/config.js';
import { Redactor } from '../../domain/redact.js';
import { openDatabase, type Database } from '../../db/database.js';
import { createLogger } from '../../runtime/logger.js';
import { createTemporalHandle } from '../../adapters/temporal-client.js';
import { createTestPgliteDir } from './pglite.js';
import { createTestPostgres } from './postgres.js';

export type DbKind = 'postgres' | 'pglite';

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. Tests read fields freely. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (for malformed or oversized bodies). */
  rawBody?: string;
  /** Overrides the Authorization header; null sends none. */
  authorization?: string | null;
  contentType?: string;
}

export interface ApiHarness {
  kind: DbKind;
  /** The Express app, for walking its router stack. */
  app: Express;
  url: string;
  apiToken: string;
  db: Database;
  config: Config;
  secretsDir: string;
  /** Files in the secrets dir: a good token, an empty file, a directory, symlinks escaping it. */
  refs: { good: string; second: string; empty: string; directory: string; escapingFile: string; escapingDir: string };
  request(method: string, pathAndQuery: string, opts?: RequestOptions): Promise<ApiResponse>;
  /** Every row of every table as JSON text, to prove a request changed nothing. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

const TABLES = ['config_repos', 'clusters', 'query_templates', 'studies', 'proposals'] as const;

export async function startApiHarness(opts: { kind: DbKind; logDestination?: Writable }): Promise<ApiHarness> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'relyloop-api-'));
  const secretsDir = path.join(root, 'secrets');
  const outside = path.join(root, 'outside');
  await mkdir(secretsDir);
  await mkdir(outside);
  const apiToken = randomBytes(24).toString('hex');
  await writeFile(path.join(secretsDir, 'api_token'), apiToken);
  await writeFile(path.join(secretsDir, 'gh_token'), `ghp_${'A1b2C3'.repeat(6)}`);
  await writeFile(path.join(secretsDir, 'gh_token_2'), `ghp_${'Z9y8X7'.repeat(6)}`);
  await writeFile(path.join(secretsDir, 'empty_token'), '');
  await writeFile(path.join(secretsDir, 'hook_secret'), `whsec-${randomBytes(12).toString('hex')}`);
  await mkdir(path.join(secretsDir, 'a_directory'));
  await writeFile(path.join(outside, 'stolen'), 'not a secret of ours');
  await symlink(path.join(outside, 'stolen'), path.join(secretsDir, 'escaping_file'));
  await symlink(outside, path.join(secretsDir, 'escaping_dir'));

  const pg = opts.kind === 'postgres' ? await createTestPostgres() : undefined;
  const pglite = opts.kind === 'pglite' ? await createTestPgliteDir() : undefined;
  const db = await openDatabase({ url: pg?.url, pgliteDir: pglite?.dir ?? path.join(root, 'unused') });
  const config = loadConfig(
    {
      RELYLOOP_DATA_DIR: path.join(root, 'data'),
      RELYLOOP_SECRETS_DIR: secretsDir,
      RELYLOOP_GITHUB_HOSTS: 'github.com,ghe.example.com',
      RELYLOOP_GITEA_HOSTS: 'git.example.com',
      LOG_LEVEL: 'silent',
    },
    root,
  );
  const redactor = new Redactor();
  const logger = createLogger({
    level: opts.logDestination ? 'info' : 'silent',
    redactor,
    destination: opts.logDestination,
  });
  const temporal = createTemporalHandle('127.0.0.1:1', 'relyloop');
  const app = createApp({ config, db, temporal, logger, apiToken, redactor });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  return {
    kind: opts.kind,
    app,
    url,
    apiToken,
    db,
    config,
    secretsDir,
    refs: {
      good: 'gh_token',
      second: 'gh_token_2',
      empty: 'empty_token',
      directory: 'a_directory',
      escapingFile: 'escaping_file',
      escapingDir: 'escaping_dir',
    },
    async request(method, pathAndQuery, o = {}) {
      const headers: Record<string, string> = {};
      const authorization = o.authorization === undefined ? `Bearer ${apiToken}` : o.authorization;
      if (authorization !== null) headers.authorization = authorization;
      const payload = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      if (payload !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
      const res = await fetch(url + pathAndQuery, { method, headers, body: payload });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
    },
    async snapshot() {
      const parts: string[] = [];
      for (const table of TABLES) {
        const [row] = await db.sql.query<{ rows: string }>(
          `SELECT coalesce(json_agg(t ORDER BY t.id), '[]'::json)::text AS rows FROM ${table} t`,
        );
        parts.push(`${table}: ${row?.rows ?? ''}`);
      }
      return parts.join('\n');
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await temporal.close().catch(() => undefined);
      await db.close();
      await pg?.drop();
      await pglite?.remove();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Creates a config repo, a cluster pointing at it, a template and a study through the API. */
export async function seedChain(
  h: ApiHarness,
  suffix: string,
): Promise<{ repoId: string; clusterId: string; templateId: string; studyId: string }> {
  const repo = await h.request('POST', '/api/v1/config-repos', {
    body: {
      name: `repo-${suffix}`,
      repo_url: `https://github.com/acme/search-config-${suffix}`,
      auth_ref: h.refs.good,
    },
  });
  const cluster = await h.request('POST', '/api/v1/clusters', {
    body: { name: `cluster ${suffix}`, config_repo_id: repo.body.id, config_path: 'clusters/prod' },
  });
  const template = await h.request('POST', '/api/v1/templates', {
    body: {
      cluster_id: cluster.body.id,
      name: `products-${suffix}`,
      declared_params: ['field_boosts.title', 'bm25.k1'],
    },
  });
  const study = await h.request('POST', '/api/v1/studies', {
    body: {
      name: `study ${suffix}`,
      cluster_id: cluster.body.id,
      template_id: template.body.id,
      metric: 'ndcg@10',
      baseline_metric: 0.5,
      best_metric: 0.55,
      parameter_importance: { 'bm25.k1': 0.7, 'field_boosts.title': 0.3 },
      suggested_followups: ['try fuzziness'],
    },
  });
  for (const r of [repo, cluster, template, study]) {
    if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { repoId: repo.body.id, clusterId: cluster.body.id, templateId: template.body.id, studyId: study.body.id };
}

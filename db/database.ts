// Opens the service database: embedded PGlite under {data dir}/pglite when DATABASE_URL is unset,
// otherwise a PostgreSQL server. Both get the same Prisma client (through a driver adapter), the
// same SQL executor for migrations and health checks, and pending migrations applied on open.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Config } from '../domain/config.js';
import type { Logger } from '../runtime/logger.js';
import type { ShutdownStack } from '../runtime/shutdown.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import { applyMigrations, type MigrationResult } from './migrations.js';
import { createPgExecutor, createPgliteExecutor, type SqlExecutor } from './sql.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

export interface Database {
  kind: 'pglite' | 'postgres';
  prisma: PrismaClient;
  sql: SqlExecutor;
  /** What `open` applied, for the start-up log. */
  migrations: MigrationResult;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; undefined selects embedded PGlite in `pgliteDir`. */
  url?: string;
  pgliteDir: string;
  /** Defaults to true: apply pending migrations on open. */
  migrate?: boolean;
  /**
   * PostgreSQL only: the server cancels any statement running longer, and waiting longer for a
   * pooled connection fails. Default 5 s; 0 turns both off. Keep it below the activity timeouts,
   * so a query of an abandoned attempt can never commit later.
   */
  statementTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url === undefined
    ? openPglite(opts.pgliteDir, opts.migrate ?? true)
    : openPostgres(opts.url, opts.migrate ?? true, opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
}

async function openPostgres(url: string, migrate: boolean, statementTimeoutMs: number): Promise<Database> {
  // statement_timeout is a session default sent at connect, so it bounds Prisma's queries too;
  // a transaction left idle (a crashed caller) is ended by the server as well.
  const bounded =
    statementTimeoutMs > 0
      ? {
          statement_timeout: statementTimeoutMs,
          idle_in_transaction_session_timeout: statementTimeoutMs * 2,
          connectionTimeoutMillis: statementTimeoutMs,
        }
      : {};
  const pool = new pg.Pool({ connectionString: url, max: 10, ...bounded });
  // An idle pooled connection the server dropped (restart, failover) must not crash the process.
  pool.on('error', () => undefined);
  const sql = createPgExecutor(pool);
  try {
    const migrations = migrate ? await applyMigrations(sql, MIGRATIONS_DIR) : { applied: [], alreadyApplied: [] };
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    return {
      kind: 'postgres',
      prisma,
      sql,
      migrations,
      async close() {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Settings of the embedded PostgreSQL. PostgreSQL's default 128 MB of shared buffers would be
 * touched over time inside this process's WebAssembly memory; the service's tables are small
 * (measured: 320 MB resident for PGlite with the default, 190 MB with this).
 */
export const PGLITE_CONF = ['shared_buffers = 16MB'];

/**
 * Runs PGlite's `initdb` into `dir` in a short-lived child process. `initdb` runs in its own
 * WebAssembly instance whose memory PGlite keeps referenced afterwards: done in-process, it left
 * the service ~430 MB larger for its whole life (measured).
 */
async function runPgliteInitdb(dir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script =
    'const { PGlite } = require(process.argv[1]); PGlite.create(process.argv[2]).then((db) => db.close());';
  // Node by its absolute path and PGlite by its resolved file: the child needs nothing of the environment.
  await promisify(execFile)(process.execPath, ['-e', script, pglite, dir], { env: {}, timeout: 120_000 });
}

/**
 * Where the install keeps a just-initialised PGlite data directory (one per PGlite version, in
 * node_modules/.cache): `initdb` costs ≈ 3 s of CPU, a copy of its result 50 ms. Nothing is ever
 * written to it but that result, in one rename.
 */
export function pgliteTemplateDir(): string {
  // The package's exports hide its package.json: found from its entry point, upwards.
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  // dir is node_modules/@electric-sql/pglite
  return path.join(dir, '..', '..', '.cache', 'relyloop-pr', `pglite-${version}-initdb`);
}

/** `npm run setup`: makes the template unless it is there, so even the first `npm start` copies it. */
export async function ensurePgliteTemplate(): Promise<void> {
  const template = pgliteTemplateDir();
  if (existsSync(path.join(template, 'PG_VERSION'))) return;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'relyloop-pglite-initdb-'));
  try {
    await initPgliteDir(path.join(scratch, 'pglite'), template);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Creates a new PGlite data directory: a copy of the install's template when there is one, else
 * `initdb`, whose result then becomes the template. A template that cannot be read or written
 * only costs the `initdb`.
 */
export async function initPgliteDir(dir: string, template = pgliteTemplateDir()): Promise<'template' | 'initdb'> {
  // Only into a directory of its own making: anything already at `dir` is left to initdb as before.
  if (!existsSync(dir) && existsSync(path.join(template, 'PG_VERSION'))) {
    try {
      await cp(template, dir, { recursive: true, errorOnExist: true, force: false });
      return 'template';
    } catch {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await runPgliteInitdb(dir);
  // Published in one rename: a reader sees the whole template or none. Another process that got
  // there first keeps its own.
  const staging = `${template}.${process.pid}.${Date.now()}`;
  try {
    await mkdir(path.dirname(template), { recursive: true });
    await cp(dir, staging, { recursive: true });
    await rename(staging, template);
  } catch {
    // read-only install, or a template published meanwhile
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return 'initdb';
}

async function openPglite(dir: string, migrate: boolean): Promise<Database> {
  await mkdir(path.dirname(dir), { recursive: true });
  // PGlite runs inside this process and must be the only one using the directory.
  const lock: DirLock = await acquireDirLock(`${dir}.lock`, 'the embedded PGlite database');
  let db: PGlite | undefined;
  try {
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await initPgliteDir(dir);
    db = await PGlite.create(dir, { postgresqlconf: PGLITE_CONF });
    const sql = createPgliteExecutor(db);
    const migrations = migrate ? await applyMigrations(sql, MIGRATIONS_DIR) : { applied: [], alreadyApplied: [] };
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
    const pglite = db;
    return {
      kind: 'pglite',
      prisma,
      sql,
      migrations,
      async close() {
        await prisma.$disconnect();
        await pglite.close();
        await lock.release();
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    await lock.release();
    throw error;
  }
}

/** The service's database (PostgreSQL, or the embedded PGlite under the data dir), migrated; closed by `shutdown`. */
export async function openServiceDatabase(config: Config, logger: Logger, shutdown: ShutdownStack): Promise<Database> {
  const db = await openDatabase({
    url: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'pglite'),
    statementTimeoutMs: config.dbStatementTimeout,
  });
  shutdown.push('database', () => db.close());
  logger.info(
    { kind: db.kind, applied: db.migrations.applied, alreadyApplied: db.migrations.alreadyApplied.length },
    'database ready',
  );
  return db;
}

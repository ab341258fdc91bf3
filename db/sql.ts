// Raw SQL, for both PostgreSQL (node-postgres) and embedded PGlite: the migration runner and health
// checks, and the data access Prisma cannot express in one statement (docs/development.md
// "Database access"): conditional updates that decide a race (compare-and-set on a status or a
// lease), upserts with a condition, keyset paging, per-statement time and lock limits, and
// DELETEs whose SQLSTATE is the answer. Plain reads and writes of one row go through Prisma.
import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

export interface SqlSession {
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

/** What data-access functions that only run SQL need: a pool, or one bounded session. */
export interface SqlScope {
  sql: SqlSession;
}

/** Tighter bounds than the pool's for work that must answer in time (a webhook: GitHub waits 10 s). */
export interface SqlLimits {
  /** Each statement is cancelled after this (PostgreSQL 57014). */
  statementTimeoutMs: number;
  /** A statement waiting this long for a row or table lock gives up (PostgreSQL 55P03). */
  lockTimeoutMs: number;
}

export interface SqlExecutor extends SqlSession {
  /** Runs `fn` on one dedicated connection (session-level locks need that). */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on one connection under `limits`; the pool's defaults are restored after. PGlite is
   * one connection whose statements run one at a time, so no other session can hold a lock it
   * waits for: `fn` runs as it is there.
   */
  withLimits<T>(limits: SqlLimits, fn: (session: SqlSession) => Promise<T>): Promise<T>;
}

/** A statement cancelled by statement_timeout (57014) or a lock wait past lock_timeout (55P03). */
export function isSqlTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '57014' || code === '55P03';
}

function pgSession(client: Pool | PoolClient): SqlSession {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

export function createPgExecutor(pool: Pool): SqlExecutor {
  return {
    ...pgSession(pool),
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn(pgSession(client));
      } finally {
        client.release();
      }
    },
    async withLimits(limits, fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(
          `SET statement_timeout = ${Math.max(1, Math.round(limits.statementTimeoutMs))}; SET lock_timeout = ${Math.max(1, Math.round(limits.lockTimeoutMs))}`,
        );
        try {
          return await fn(pgSession(client));
        } finally {
          // A connection whose defaults cannot be restored is not reused.
          await client.query('RESET statement_timeout; RESET lock_timeout').catch((error: unknown) => {
            broken = error instanceof Error ? error : new Error(String(error));
          });
        }
      } finally {
        client.release(broken);
      }
    },
  };
}

export function createPgliteExecutor(db: PGlite): SqlExecutor {
  const session: SqlSession = {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
  // PGlite is a single connection: every session is the same one.
  return { ...session, withSession: (fn) => fn(session), withLimits: (_limits, fn) => fn(session) };
}

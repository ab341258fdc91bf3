// The narrow SQL surface the migration runner and health checks need, implemented for both
// PostgreSQL (node-postgres) and embedded PGlite.
import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

export interface SqlSession {
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

export interface SqlExecutor extends SqlSession {
  /** Runs `fn` on one dedicated connection (session-level locks need that). */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
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
  return { ...session, withSession: (fn) => fn(session) };
}

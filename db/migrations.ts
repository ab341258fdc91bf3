// Applies the committed SQL migrations in prisma/migrations, keeping Prisma's `_prisma_migrations`
// bookkeeping so `prisma migrate deploy` (where its engine is available) sees the same history.
// Prisma's CLI cannot run here (its schema engine is downloaded), hence this runner.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlExecutor, SqlSession } from './sql.js';

export interface Migration {
  name: string;
  sql: string;
  /** SHA-256 of migration.sql, as Prisma computes it. */
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Prisma's advisory lock key for migrations, so our runner and Prisma's never interleave. */
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const BOOKKEEPING_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies every pending migration of `dir`, each in its own transaction, under Prisma's advisory
 * lock. Refuses to continue past a failed or edited migration, as `prisma migrate deploy` does.
 */
export async function applyMigrations(db: SqlExecutor, dir: string): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  return db.withSession(async (s) => {
    // Migrations (and waiting for another process's) may take longer than the service's
    // statement timeout; RESET restores the pool's default before the connection is reused.
    await s.exec('SET statement_timeout = 0');
    try {
      await s.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
      try {
        await s.exec(BOOKKEEPING_DDL);
        return await applyPending(s, migrations);
      } finally {
        await s.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
      }
    } finally {
      await s.exec('RESET statement_timeout');
    }
  });
}

async function applyPending(s: SqlSession, migrations: Migration[]): Promise<MigrationResult> {
  const rows = await s.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
  );
  const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} failed earlier; fix the database, then mark it rolled back ` +
        `(UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}') and start again`,
    );
  }
  const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r]));
  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const row = done.get(m.name);
    if (row) {
      if (row.checksum !== m.checksum) {
        throw new MigrationError(`migration ${m.name} was edited after it was applied; add a new migration instead`);
      }
      result.alreadyApplied.push(m.name);
      continue;
    }
    await applyOne(s, m);
    result.applied.push(m.name);
  }
  return result;
}

async function applyOne(s: SqlSession, m: Migration): Promise<void> {
  const id = randomUUID();
  await s.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)', [
    id,
    m.checksum,
    m.name,
  ]);
  try {
    await s.exec(`BEGIN;\n${m.sql}\n;COMMIT;`);
  } catch (error) {
    await s.exec('ROLLBACK').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    await s.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
    throw new MigrationError(`migration ${m.name} failed: ${message}`, { cause: error });
  }
  await s.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
}

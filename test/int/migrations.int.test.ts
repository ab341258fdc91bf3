import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, openDatabase, type Database } from '../../db/database.js';
import { applyMigrations, MigrationError, readMigrations } from '../../db/migrations.js';
import { createPgExecutor } from '../../db/sql.js';
import { createTestPgliteDir } from '../support/pglite.js';
import { createTestPostgres } from '../support/postgres.js';

interface Bookkeeping {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}

let seeded = 0;
async function seedProposal(db: Database): Promise<string> {
  seeded += 1;
  const repo = await db.prisma.configRepo.create({
    data: { name: `cfg-${seeded}`, provider: 'github', repoUrl: 'https://github.com/o/r', authRef: 'tok' },
  });
  const cluster = await db.prisma.cluster.create({
    data: { name: 'c1', configRepoId: repo.id, configPath: 'clusters/c1' },
  });
  const template = await db.prisma.queryTemplate.create({
    data: { clusterId: cluster.id, name: 'search', declaredParams: ['k1'] },
  });
  const proposal = await db.prisma.proposal.create({
    data: { clusterId: cluster.id, templateId: template.id, configDiff: { k1: { from: 1.2, to: 1.5 } } },
  });
  return proposal.id;
}

const MARK_OPENED = `UPDATE proposals SET status = 'pr_opened', pr_url = $2, pr_state = 'open', updated_at = now()
  WHERE id = $1 AND status = 'pending'`;

describe.each([
  [
    'PostgreSQL',
    async () => {
      const pgdb = await createTestPostgres();
      return { open: () => openDatabase({ url: pgdb.url, pgliteDir: '' }), cleanup: pgdb.drop };
    },
  ],
  [
    'PGlite',
    async () => {
      const dir = await createTestPgliteDir();
      return { open: () => openDatabase({ pgliteDir: dir.dir }), cleanup: dir.remove };
    },
  ],
])('migrations on %s', (_kind, make) => {
  let env: Awaited<ReturnType<typeof make>>;
  let db: Database;
  beforeAll(async () => {
    env = await make();
    db = await env.open();
  });
  afterAll(async () => {
    await db.close();
    await env.cleanup();
  });

  test('the first open applies every migration and keeps Prisma bookkeeping', async () => {
    const migrations = await readMigrations(MIGRATIONS_DIR);
    expect(db.migrations.applied).toEqual(migrations.map((m) => m.name));
    const rows = await db.sql.query<Bookkeeping>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count, logs FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count, r.logs])).toEqual(
      migrations.map((m) => [m.name, m.checksum, 1, null]),
    );
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  test('a second run applies nothing', async () => {
    const again = await applyMigrations(db.sql, MIGRATIONS_DIR);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThan(0);
  });

  test('the conditional update marks a pending proposal once and never overrides a rejection', async () => {
    const id = await seedProposal(db);
    const first = await db.prisma.$executeRawUnsafe(MARK_OPENED, id, 'https://github.com/o/r/pull/1');
    const second = await db.prisma.$executeRawUnsafe(MARK_OPENED, id, 'https://github.com/o/r/pull/2');
    expect([first, second]).toEqual([1, 0]);
    expect(await db.prisma.proposal.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'pr_opened',
      prUrl: 'https://github.com/o/r/pull/1',
      prState: 'open',
    });

    const rejected = await seedProposal(db);
    await db.prisma.proposal.update({ where: { id: rejected }, data: { status: 'rejected', rejectedReason: 'no' } });
    expect(await db.prisma.$executeRawUnsafe(MARK_OPENED, rejected, 'https://github.com/o/r/pull/3')).toBe(0);
    expect(await db.prisma.proposal.findUniqueOrThrow({ where: { id: rejected } })).toMatchObject({
      status: 'rejected',
      prUrl: null,
      rejectedReason: 'no',
    });
  });
});

describe('migration runner safety (PostgreSQL)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relyloop-migrations-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
    const db = await createTestPostgres();
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      return await fn(pool);
    } finally {
      await pool.end();
      await db.drop();
    }
  }

  test('concurrent runners apply each migration exactly once (advisory lock)', async () => {
    await withPool(async (pool) => {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => applyMigrations(createPgExecutor(pool), MIGRATIONS_DIR)),
      );
      expect(results.flatMap((r) => r.applied).sort()).toEqual(
        (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name),
      );
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM "_prisma_migrations"');
      expect(rows[0].n).toBe(results.flatMap((r) => r.applied).length);
    });
  });

  test('an applied migration edited afterwards is refused', async () => {
    const migrations = path.join(dir, 'edited');
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    await withPool(async (pool) => {
      const exec = createPgExecutor(pool);
      await applyMigrations(exec, migrations);
      const [first] = await readMigrations(migrations);
      await writeFile(path.join(migrations, first!.name, 'migration.sql'), `${first!.sql}\n-- edited\n`);
      await expect(applyMigrations(exec, migrations)).rejects.toThrow(/was edited after it was applied/);
    });
  });

  test('a failing migration is rolled back, recorded with its error, and blocks later runs', async () => {
    const migrations = path.join(dir, 'failing');
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    await mkdir(path.join(migrations, '29990101000000_broken'));
    await writeFile(
      path.join(migrations, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n',
    );
    await withPool(async (pool) => {
      const exec = createPgExecutor(pool);
      const error = await applyMigrations(exec, migrations).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(String((error as Error).message)).toMatch(/29990101000000_broken failed: .*no_such_table/);
      const { rows: tables } = await pool.query("SELECT to_regclass('half_done') AS t, to_regclass('proposals') AS p");
      expect(tables[0]).toEqual({ t: null, p: 'proposals' });
      const { rows } = await pool.query(
        `SELECT finished_at, logs FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`,
      );
      expect(rows).toEqual([{ finished_at: null, logs: expect.stringContaining('no_such_table') }]);
      await expect(applyMigrations(exec, migrations)).rejects.toThrow(/failed earlier/);
    });
  });
});

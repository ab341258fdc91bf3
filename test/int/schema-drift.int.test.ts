// Migrations and schema.prisma must describe the same database (drift fails CI). Prisma's
// `migrate diff` needs a schema engine that cannot be downloaded here, so the comparison is made
// between Prisma's own parse of the schema (DMMF) and pg_catalog after applying the migrations.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '../../db/database.js';
import { createTestPgliteDir } from '../support/pglite.js';
import { createTestPostgres, type TestPostgres } from '../support/postgres.js';
import { shapeFromDatabase, shapeFromPrismaSchema, type SchemaShape } from '../support/schema-shape.js';

const SCHEMA = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

describe('migrations agree with schema.prisma', () => {
  let expected: SchemaShape;
  let pg: TestPostgres;
  let pglite: Awaited<ReturnType<typeof createTestPgliteDir>>;
  const dbs: Database[] = [];

  beforeAll(async () => {
    expected = await shapeFromPrismaSchema(SCHEMA);
    pg = await createTestPostgres();
    pglite = await createTestPgliteDir();
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await pg.drop();
    await pglite.remove();
  });

  test('the schema declares every table of docs/architecture.md "Data" and the shared GitHub pacing', () => {
    // The tables of docs/architecture.md "Data" (webhook deliveries included), and the GitHub pacing
    // state the workers share (db/github-pacing.ts).
    expect(Object.keys(expected.tables).sort()).toEqual([
      'clusters',
      'config_repos',
      'github_pacing',
      'proposals',
      'query_templates',
      'studies',
      'webhook_deliveries',
    ]);
    expect(expected.enums).toEqual({
      proposal_status: ['pending', 'pr_opened', 'pr_merged', 'rejected', 'superseded'],
      pr_state: ['open', 'closed', 'merged'],
    });
  });

  test.each([
    ['PostgreSQL', () => openDatabase({ url: pg.url, pgliteDir: '' })],
    ['PGlite', () => openDatabase({ pgliteDir: pglite.dir })],
  ])('on %s the migrated database matches the schema exactly', async (_kind, open) => {
    const db = await open();
    dbs.push(db);
    expect(await shapeFromDatabase(db.sql)).toEqual(expected);
  });

  test('the comparison notices drift', async () => {
    const db = dbs[0];
    if (db === undefined) throw new Error('previous test opened no database');
    await db.sql.exec(
      'ALTER TABLE proposals ALTER COLUMN rejected_reason TYPE VARCHAR(600); CREATE INDEX extra_idx ON clusters (name)',
    );
    const actual = await shapeFromDatabase(db.sql);
    expect(actual).not.toEqual(expected);
    expect(actual.tables.proposals?.columns.rejected_reason?.type).toBe('character varying(600)');
    expect(actual.tables.clusters?.indexes).toContainEqual(['name']);
  });
});

// A throwaway PostgreSQL database per test file, on the server `npm test` prepares
// (scripts/test-postgres.sh). TEST_DATABASE_ADMIN_URL points elsewhere when needed.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://relyloop_test:relyloop_test@127.0.0.1:5432/postgres';

export interface TestPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_ADMIN_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `cannot reach the test PostgreSQL at ${TEST_ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}; ` +
        'run the tests with `npm test` (it starts one) or set TEST_DATABASE_ADMIN_URL',
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestPostgres(): Promise<TestPostgres> {
  const name = `relyloop_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

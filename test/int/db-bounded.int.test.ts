// Database work is bounded and step 14 is idempotent: on PostgreSQL every statement is
// cancelled by the server after the statement timeout, so an activity attempt that Temporal
// abandons can never commit later and blocked queries cannot drain the pool; mark-opened and the
// failure record recognise our own earlier write. (PGlite is one in-process connection: nothing
// else can hold a row lock there, so this is a PostgreSQL matter.)
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { createDbActivities } from '../../activities/db/proposal-activities.js';
import { openDatabase, type Database } from '../../db/database.js';
import { DEFAULT_OPEN_PR_POLICY } from '../../domain/open-pr-contracts.js';
import { Redactor } from '../../domain/redact.js';
import { createTestPostgres, type TestPostgres } from '../support/postgres.js';

const STATEMENT_TIMEOUT_MS = 1_000;
const PR = { prUrl: 'https://github.com/acme/cfg/pull/7', prNumber: 7, branch: 'relyloop/proposal-x' };

describe('bounded database work', () => {
  let pgdb: TestPostgres;
  let db: Database;
  let unbounded: Database;
  let locker: pg.Client;
  const activities = () => createDbActivities({ db, redactor: new Redactor(), policy: DEFAULT_OPEN_PR_POLICY });

  beforeAll(async () => {
    pgdb = await createTestPostgres();
    db = await openDatabase({ url: pgdb.url, pgliteDir: '', statementTimeoutMs: STATEMENT_TIMEOUT_MS });
    unbounded = await openDatabase({ url: pgdb.url, pgliteDir: '', migrate: false, statementTimeoutMs: 0 });
    locker = new pg.Client({ connectionString: pgdb.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await unbounded?.close();
    await db?.close();
    await pgdb?.drop();
  });

  async function newProposal(): Promise<string> {
    const [cluster] = await db.sql.query<{ id: string }>("INSERT INTO clusters (name) VALUES ('c') RETURNING id");
    const [template] = await db.sql.query<{ id: string }>(
      "INSERT INTO query_templates (cluster_id, name, declared_params) VALUES ($1, 't', '{k1}') RETURNING id",
      [cluster?.id],
    );
    const [proposal] = await db.sql.query<{ id: string }>(
      `INSERT INTO proposals (cluster_id, template_id, config_diff) VALUES ($1, $2, '{"k1": {"from": 1, "to": 2}}') RETURNING id`,
      [cluster?.id, template?.id],
    );
    return proposal?.id as string;
  }
  const row = async (id: string) =>
    (
      await db.sql.query<{ status: string; pr_number: number | null; pr_open_error: string | null }>(
        'SELECT status, pr_number, pr_open_error FROM proposals WHERE id = $1',
        [id],
      )
    )[0];
  /** Holds the proposal's row lock in another session until `release`. */
  async function lockRow(id: string): Promise<{ release(): Promise<void> }> {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM proposals WHERE id = $1 FOR UPDATE', [id]);
    return {
      release: async () => {
        await locker.query('COMMIT');
      },
    };
  }
  const waitingUpdates = async () =>
    Number(
      (
        await locker.query(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'UPDATE proposals%'",
        )
      ).rows[0].n,
    );

  test('a write blocked past the statement timeout is cancelled by the server, and never lands after its attempt was given up', async () => {
    const id = await newProposal();
    const lock = await lockRow(id);
    const started = Date.now();
    const attempt = await activities()
      .markProposalOpened({ proposalId: id, ...PR })
      .catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(attempt).toMatchObject({ code: '57014', message: expect.stringMatching(/statement timeout/) });
    expect(elapsed).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    expect(await waitingUpdates()).toBe(0); // nothing of ours is left running in the server
    await lock.release();
    await new Promise((r) => setTimeout(r, STATEMENT_TIMEOUT_MS + 500));
    expect(await row(id)).toMatchObject({ status: 'pending', pr_number: null });

    // The retry writes it; a repeat recognises its own write.
    expect(await activities().markProposalOpened({ proposalId: id, ...PR })).toEqual({ outcome: 'marked' });
    expect(await activities().markProposalOpened({ proposalId: id, ...PR })).toEqual({ outcome: 'already_recorded' });
  });

  test('control: without a statement timeout the abandoned write lands once the row is free', async () => {
    const id = await newProposal();
    const lock = await lockRow(id);
    const abandoned = createDbActivities({
      db: unbounded,
      redactor: new Redactor(),
      policy: DEFAULT_OPEN_PR_POLICY,
    }).markProposalOpened({ proposalId: id, ...PR });
    // Temporal gives the attempt up (its timeout); the query keeps waiting in the server.
    await new Promise((r) => setTimeout(r, STATEMENT_TIMEOUT_MS + 500));
    expect(await waitingUpdates()).toBe(1);
    await lock.release();
    await abandoned;
    expect(await row(id)).toMatchObject({ status: 'pr_opened', pr_number: 7 });
  });

  test('queries stuck behind a lock cannot drain the pool: each is cut off and the pool serves again', async () => {
    const id = await newProposal();
    const lock = await lockRow(id);
    // Twice the pool's size, all blocked on the same row.
    const stuck = await Promise.all(
      Array.from({ length: 20 }, () =>
        activities()
          .markProposalOpened({ proposalId: id, ...PR })
          .then(
            () => 'wrote',
            (e: unknown) => String((e as Error).message),
          ),
      ),
    );
    expect(stuck.every((outcome) => /statement timeout|timeout exceeded when trying to connect/.test(outcome))).toBe(
      true,
    );
    // Nothing of ours is still waiting in the server: every stuck query was cut off, so the pool
    // serves the next one.
    expect(await waitingUpdates()).toBe(0);
    expect(await activities().isProposalPending({ proposalId: id })).toBe(true);
    await lock.release();
  });

  test('mark opened: every outcome, decided by the database', async () => {
    const a = activities();
    expect(await a.markProposalOpened({ proposalId: '6f1c1a52-3f5e-4d3a-9b7e-1a2b3c4d5e6f', ...PR })).toEqual({
      outcome: 'not_found',
    });

    const rejected = await newProposal();
    await db.sql.query("UPDATE proposals SET status = 'rejected' WHERE id = $1", [rejected]);
    expect(await a.markProposalOpened({ proposalId: rejected, ...PR })).toEqual({
      outcome: 'not_pending',
      status: 'rejected',
      prNumber: null,
      prBranch: null,
    });
    expect(await row(rejected)).toMatchObject({ status: 'rejected', pr_number: null });

    const other = await newProposal();
    await a.markProposalOpened({ proposalId: other, ...PR, prNumber: 9 });
    expect(await a.markProposalOpened({ proposalId: other, ...PR })).toEqual({
      outcome: 'not_pending',
      status: 'pr_opened',
      prNumber: 9,
      prBranch: PR.branch,
    });
    expect(
      await a.markProposalOpened({ proposalId: other, ...PR, prNumber: 9, branch: 'relyloop/other' }),
    ).toMatchObject({ outcome: 'not_pending' });
  });

  test('the failure record is idempotent and never lands on a rejected or opened proposal', async () => {
    const a = activities();
    const id = await newProposal();
    expect(await a.recordPrOpenError({ proposalId: id, error: 'CLONE_FAILED: x' })).toEqual({ outcome: 'recorded' });
    expect(await a.recordPrOpenError({ proposalId: id, error: 'CLONE_FAILED: x' })).toEqual({ outcome: 'recorded' });
    expect(await row(id)).toMatchObject({ status: 'pending', pr_open_error: 'CLONE_FAILED: x' });
    // A run without a cause of its own (a reset run's stale lock grant) keeps the earlier one.
    expect(await a.recordPrOpenError({ proposalId: id, error: 'LOCK_LOST: stale', keepEarlier: true })).toEqual({
      outcome: 'kept_earlier',
    });
    expect(await row(id)).toMatchObject({ pr_open_error: 'CLONE_FAILED: x' });
    const fresh = await newProposal();
    expect(await a.recordPrOpenError({ proposalId: fresh, error: 'LOCK_LOST: stale', keepEarlier: true })).toEqual({
      outcome: 'recorded',
    });
    expect(await row(fresh)).toMatchObject({ pr_open_error: 'LOCK_LOST: stale' });
    await db.sql.query("UPDATE proposals SET status = 'rejected' WHERE id = $1", [id]);
    expect(await a.recordPrOpenError({ proposalId: id, error: 'GITHUB_API_FAILED: y' })).toEqual({
      outcome: 'not_pending',
      status: 'rejected',
      prNumber: null,
      prBranch: null,
    });
    expect(await row(id)).toMatchObject({ status: 'rejected', pr_open_error: 'CLONE_FAILED: x' });
    // An opened proposal names its PR, so a reset run can tell it opened that PR itself.
    await a.markProposalOpened({ proposalId: fresh, ...PR });
    expect(await a.recordPrOpenError({ proposalId: fresh, error: 'LOCK_LOST: stale', keepEarlier: true })).toEqual({
      outcome: 'not_pending',
      status: 'pr_opened',
      prNumber: PR.prNumber,
      prBranch: PR.branch,
    });
  });
});

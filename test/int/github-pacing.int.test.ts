// GitHub write pacing per token (domain/github-pacing.ts), kept in the database so every worker
// process that shares a token keeps to it: writes are serial — one unanswered write of a token at a
// time, the next one sent a gap after its answer — from any process; another token is not held up;
// the content budget lets a burst through, then one more per emission interval; a turn whose writer
// died lapses; the token itself is never stored.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openDatabase, type Database } from '../../db/database.js';
import { createDbGitHubPacer } from '../../db/github-pacing.js';
import {
  createMemoryGitHubPacer,
  tokenPacingKey,
  WRITE_LEASE_MS,
  WRITE_LEASE_RENEW_MS,
  type GitHubPacer,
  type GitHubPacingRules,
} from '../../domain/github-pacing.js';
import { createGitHubClient } from '../../adapters/github/github-client.js';
import { Redactor } from '../../domain/redact.js';
import { pushBranch } from '../../sandbox/branches.js';
import { startGitHubSandbox } from '../../sandbox/index.js';
import { createTestPostgres, type TestPostgres } from '../support/postgres.js';

const TOKEN_A = `ghp_${'PacingTokenA'.padEnd(36, 'a')}`;
const TOKEN_B = `ghp_${'PacingTokenB'.padEnd(36, 'b')}`;
const GAP: GitHubPacingRules = { writeGapMs: 300, contentPerWindow: 500, contentWindowMs: 3_600_000 };
const BUDGET: GitHubPacingRules = { writeGapMs: 0, contentPerWindow: 3, contentWindowMs: 3_000 };

/** Asks for the turn until it is given, sleeping as told; the ms waited. */
async function takeTurn(pacer: GitHubPacer, token: string, createsContent = false): Promise<number> {
  const t0 = Date.now();
  for (
    let wait = await pacer.tryWrite(token, { createsContent });
    wait > 0;
    wait = await pacer.tryWrite(token, { createsContent })
  ) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return Date.now() - t0;
}

function behavesLikeGitHubAsks(name: string, makePacers: (rules: GitHubPacingRules) => Promise<GitHubPacer[]>) {
  describe(name, () => {
    test('one write of a token at a time: of six attempts at once, from every process, one takes the turn', async () => {
      const pacers = await makePacers(GAP);
      const token = `${TOKEN_A}${name.length}${Math.random()}`;
      const waits = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (pacers[i % pacers.length] as GitHubPacer).tryWrite(token, { createsContent: false }),
        ),
      );
      expect(waits.filter((w) => w === 0)).toHaveLength(1);
      expect(Math.min(...waits.filter((w) => w > 0))).toBeGreaterThan(0);
      // Another token is not held up by the first one's queue.
      expect(await (pacers[0] as GitHubPacer).tryWrite(`${TOKEN_B}${Math.random()}`, { createsContent: true })).toBe(0);
    });

    test('writes are serial: while a write is unanswered the next one waits; then it waits the gap from the answer', async () => {
      const [first, second] = await makePacers(GAP);
      const other = (second ?? first) as GitHubPacer;
      const token = `${TOKEN_A}-serial-${Math.random()}`;
      expect(await (first as GitHubPacer).tryWrite(token, { createsContent: true })).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, GAP.writeGapMs + 100)); // a slow answer: longer than the gap
      expect(await other.tryWrite(token, { createsContent: true })).toBeGreaterThan(0); // still unanswered
      await (first as GitHubPacer).writeDone(token);
      const next = await other.tryWrite(token, { createsContent: true });
      // A slot fixed when the first write started would have passed long ago; the gap counts from the answer.
      expect(next).toBeGreaterThan(GAP.writeGapMs - 60);
      expect(next).toBeLessThanOrEqual(GAP.writeGapMs + 5);
      expect(await takeTurn(other, token, true)).toBeGreaterThanOrEqual(next - 60);
    });

    test('content: a burst up to the budget, then one more per window / budget; other writes do not spend it', async () => {
      const [pacer] = await makePacers(BUDGET);
      const token = `${TOKEN_A}-budget-${Math.random()}`;
      for (let i = 0; i < 3; i++)
        expect(await (pacer as GitHubPacer).tryWrite(token, { createsContent: true })).toBe(0);
      expect(await (pacer as GitHubPacer).tryWrite(token, { createsContent: false })).toBe(0); // a close or delete
      const fourth = await (pacer as GitHubPacer).tryWrite(token, { createsContent: true });
      expect(fourth).toBeGreaterThan(900); // 3 s / 3 = one more a second
      expect(fourth).toBeLessThanOrEqual(1_050);
    });
  });
}

let pg: TestPostgres;
const dbs: Database[] = [];
beforeAll(async () => {
  pg = await createTestPostgres();
}, 60_000);
afterAll(async () => {
  for (const db of dbs) await db.close();
  await pg?.drop();
});

const open = async () => {
  const db = await openDatabase({ url: pg.url, pgliteDir: '' });
  dbs.push(db);
  return db;
};

behavesLikeGitHubAsks('in PostgreSQL, shared by two processes', async (rules) => [
  createDbGitHubPacer((await open()).sql, rules),
  createDbGitHubPacer((await open()).sql, rules),
]);
behavesLikeGitHubAsks('in memory, for one process', async (rules) => [createMemoryGitHubPacer(rules)]);

test('the database keeps a hash of the token, never the token', async () => {
  const db = await open();
  expect(await createDbGitHubPacer(db.sql, GAP).tryWrite(TOKEN_A, { createsContent: true })).toBe(0);
  const rows = await db.sql.query<{ token_hash: string }>('SELECT token_hash FROM github_pacing');
  expect(rows.map((r) => r.token_hash)).toContain(tokenPacingKey(TOKEN_A));
  expect(JSON.stringify(rows)).not.toContain(TOKEN_A);
  expect(JSON.stringify(rows)).not.toContain(TOKEN_A.slice(4, 20));
});

test('a turn is kept while its writer renews it, and lapses once a writer that died stops renewing', async () => {
  let now = 1_000_000;
  const memory = createMemoryGitHubPacer(GAP, () => now);
  expect(await memory.tryWrite(TOKEN_A, { createsContent: false })).toBe(0);
  // A slow request: renewed every WRITE_LEASE_RENEW_MS, it keeps the turn past one lease.
  for (let t = 0; t < 3 * WRITE_LEASE_MS; t += WRITE_LEASE_RENEW_MS) {
    now += WRITE_LEASE_RENEW_MS;
    await memory.renewWrite(TOKEN_A);
    expect(await memory.tryWrite(TOKEN_A, { createsContent: false })).toBeGreaterThan(0);
  }
  // The writer died: no renewal, the turn is free one lease after the last.
  now += WRITE_LEASE_MS - 1;
  expect(await memory.tryWrite(TOKEN_A, { createsContent: false })).toBeGreaterThan(0);
  now += 1;
  expect(await memory.tryWrite(TOKEN_A, { createsContent: false })).toBe(0);
  // In the database, the lease is a time on the row: one that has passed frees the turn.
  const db = await open();
  const pacer = createDbGitHubPacer(db.sql, GAP);
  const token = `${TOKEN_A}-lease-${Math.random()}`;
  expect(await pacer.tryWrite(token, { createsContent: false })).toBe(0);
  await pacer.renewWrite(token);
  expect(await pacer.tryWrite(token, { createsContent: false })).toBeGreaterThan(0);
  await db.sql.query(
    `UPDATE github_pacing SET in_flight_until = clock_timestamp() - interval '1 ms' WHERE token_hash = $1`,
    [tokenPacingKey(token)],
  );
  expect(await pacer.tryWrite(token, { createsContent: false })).toBe(0);
});

test('GitHub sees the writes of two worker processes sharing a token one at a time, each a gap after the previous answer', async () => {
  const sandbox = await startGitHubSandbox();
  try {
    const token = `ghp_${'SharedProcessToken'.padEnd(36, 's')}`;
    await sandbox.createRepo({ owner: 'acme', repo: 'shared', token, files: { 'a.json': '{}\n' } });
    await pushBranch(sandbox, { owner: 'acme', repo: 'shared', token, branch: 'relyloop/shared' });
    const clientWith = (pacer: GitHubPacer) =>
      createGitHubClient({
        apiBaseUrl: sandbox.apiBaseUrl,
        token,
        owner: 'acme',
        repo: 'shared',
        redactor: new Redactor(),
        pacer,
      });
    const rules: GitHubPacingRules = { writeGapMs: 300, contentPerWindow: 500, contentWindowMs: 3_600_000 };
    const { number } = await clientWith(createMemoryGitHubPacer(rules)).createOrAdoptPullRequest({
      head: 'relyloop/shared',
      base: 'main',
      title: 't',
      body: 'b',
    });
    // Every write answered slowly (150–250 ms): a slot fixed in advance would send the next one
    // before this answer, or closer than the gap to it.
    sandbox.injectFaults({
      method: 'PATCH',
      path: /\/pulls\/\d+$/,
      faults: Array.from({ length: 12 }, (_, i) => ({ delayMs: 150 + (i % 3) * 50 })),
    });
    await new Promise((resolve) => setTimeout(resolve, rules.writeGapMs));

    // Two worker-like processes on the same database, six writes queued at once in each.
    await open(); // the schema, before the processes start
    const from = sandbox.requests.length;
    const args = {
      databaseUrl: pg.url,
      apiBaseUrl: sandbox.apiBaseUrl,
      token,
      owner: 'acme',
      repo: 'shared',
      number,
      count: 6,
      rules,
    };
    await Promise.all(
      [1, 2].map(() =>
        promisify(execFile)(
          process.execPath,
          ['--import', 'tsx', 'test/support/pacing-writer.ts', JSON.stringify(args)],
          { timeout: 45_000 },
        ),
      ),
    );
    const writes = sandbox.requests.slice(from).filter((r) => r.method === 'PATCH');
    expect(writes).toHaveLength(12);
    // Each write arrived after the previous one was answered, and at least the gap after it.
    const gaps = writes
      .slice(1)
      .map((w, i) => w.receivedAt - ((writes[i] as { answeredAt?: number }).answeredAt ?? Infinity));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(rules.writeGapMs - 2); // clock granularity
  } finally {
    await sandbox.close();
  }
}, 60_000);

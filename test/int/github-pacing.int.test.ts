// GitHub write pacing per token (domain/github-pacing.ts), kept in the database so every worker
// process that shares a token keeps to it: two "processes" (two databases handles on one
// PostgreSQL) never get slots closer than the gap; another token is not held up; the content budget
// lets a burst through, then one more per emission interval; the token itself is never stored.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openDatabase, type Database } from '../../db/database.js';
import { createDbGitHubPacer } from '../../db/github-pacing.js';
import { createMemoryGitHubPacer, tokenPacingKey, type GitHubPacer, type GitHubPacingRules } from '../../domain/github-pacing.js';
import { createGitHubClient } from '../../activities/github/github-client.js';
import { Redactor } from '../../domain/redact.js';
import { pushBranch } from '../../sandbox/branches.js';
import { startGitHubSandbox } from '../../sandbox/index.js';
import { createTestPostgres, type TestPostgres } from '../support/postgres.js';

const TOKEN_A = `ghp_${'PacingTokenA'.padEnd(36, 'a')}`;
const TOKEN_B = `ghp_${'PacingTokenB'.padEnd(36, 'b')}`;
const GAP: GitHubPacingRules = { writeGapMs: 300, contentPerWindow: 500, contentWindowMs: 3_600_000 };
const BUDGET: GitHubPacingRules = { writeGapMs: 0, contentPerWindow: 3, contentWindowMs: 3_000 };

function behavesLikeGitHubAsks(name: string, makePacers: (rules: GitHubPacingRules) => Promise<GitHubPacer[]>) {
  describe(name, () => {
    test('writes of one token get slots at least the gap apart, from any process', async () => {
      const pacers = await makePacers(GAP);
      const token = `${TOKEN_A}${name.length}${Math.random()}`;
      // Six reservations at once, from every pacer. Each wait is counted from its own answer, and
      // the answers come a few ms apart (tens on a loaded machine): the k-th smallest wait must be
      // about k gaps, and two equal slots would show as a difference near 0, not near the gap.
      const waits = await Promise.all(Array.from({ length: 6 }, (_, i) => (pacers[i % pacers.length] as GitHubPacer).reserveWrite(token, { createsContent: false })));
      waits.sort((x, y) => x - y);
      waits.forEach((w, k) => expect(w).toBeGreaterThanOrEqual(k * GAP.writeGapMs - 100));
      expect(Math.min(...waits.slice(1).map((w, k) => w - (waits[k] as number)))).toBeGreaterThan(GAP.writeGapMs / 2);
      // Another token is not held up by the first one's queue.
      const otherToken = `${TOKEN_B}${Math.random()}`;
      expect(await (pacers[0] as GitHubPacer).reserveWrite(otherToken, { createsContent: true })).toBeLessThan(20);
    });

    test('writes are serial: the next one waits the gap from the previous answer, not from its slot', async () => {
      const [first, second] = await makePacers(GAP);
      const token = `${TOKEN_A}-serial-${Math.random()}`;
      expect(await (first as GitHubPacer).reserveWrite(token, { createsContent: true })).toBeLessThan(50);
      await new Promise((resolve) => setTimeout(resolve, 250)); // a slow answer (or a write sent late)
      await (first as GitHubPacer).writeDone(token);
      const next = await ((second ?? first) as GitHubPacer).reserveWrite(token, { createsContent: true });
      // Counted from the slot, the wait would be about 50 ms; from the answer it is the whole gap.
      expect(next).toBeGreaterThan(GAP.writeGapMs - 60);
      expect(next).toBeLessThanOrEqual(GAP.writeGapMs + 5);
    });

    test('content: a burst up to the budget, then one more per window / budget; other writes do not spend it', async () => {
      const [pacer] = await makePacers(BUDGET);
      const token = `${TOKEN_A}-budget-${Math.random()}`;
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) waits.push(await (pacer as GitHubPacer).reserveWrite(token, { createsContent: true }));
      expect(Math.max(...waits)).toBeLessThan(50);
      expect(await (pacer as GitHubPacer).reserveWrite(token, { createsContent: false })).toBeLessThan(50); // a close or delete
      const fourth = await (pacer as GitHubPacer).reserveWrite(token, { createsContent: true });
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

behavesLikeGitHubAsks('in PostgreSQL, shared by two processes', async (rules) => [createDbGitHubPacer((await open()).sql, rules), createDbGitHubPacer((await open()).sql, rules)]);
behavesLikeGitHubAsks('in memory, for one process', async (rules) => [createMemoryGitHubPacer(rules)]);

test('the database keeps a hash of the token, never the token', async () => {
  const db = await open();
  await createDbGitHubPacer(db.sql, GAP).reserveWrite(TOKEN_A, { createsContent: true });
  const rows = await db.sql.query<{ token_hash: string }>('SELECT token_hash FROM github_pacing');
  expect(rows.map((r) => r.token_hash)).toContain(tokenPacingKey(TOKEN_A));
  expect(JSON.stringify(rows)).not.toContain(TOKEN_A);
  expect(JSON.stringify(rows)).not.toContain(TOKEN_A.slice(4, 20));
});

test('GitHub sees the writes of two worker processes sharing a token at least a second apart (its sandbox refuses closer ones)', async () => {
  const sandbox = await startGitHubSandbox();
  try {
    const token = `ghp_${'SharedProcessToken'.padEnd(36, 's')}`;
    await sandbox.createRepo({ owner: 'acme', repo: 'shared', token, files: { 'a.json': '{}\n' } });
    await pushBranch(sandbox, { owner: 'acme', repo: 'shared', token, branch: 'relyloop/shared' });
    const clientWith = (pacer: GitHubPacer) => createGitHubClient({
      apiBaseUrl: sandbox.apiBaseUrl, token, owner: 'acme', repo: 'shared', redactor: new Redactor(), pacer, limiter: { retries: 0, rateLimitWaitThresholdMs: 0, maxRateLimitRetries: 0 },
    });
    const rules: GitHubPacingRules = { writeGapMs: 1_000, contentPerWindow: 500, contentWindowMs: 3_600_000 };
    const { number } = await clientWith(createMemoryGitHubPacer(rules)).createOrAdoptPullRequest({ head: 'relyloop/shared', base: 'main', title: 't', body: 'b' });
    // The sandbox refuses writes closer than 0.7 s: a margin for the scheduling jitter of a loaded
    // machine between a slot and the request's arrival; unshared pacing lands them ~0 s apart.
    sandbox.setRateLimits({ minWriteGapMs: 700 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Two processes, each with its own database handle: the shared pacing keeps them apart.
    const [p1, p2] = [createDbGitHubPacer((await open()).sql, rules), createDbGitHubPacer((await open()).sql, rules)];
    const before = sandbox.rateLimitRefusals.write_gap ?? 0;
    const t0 = Date.now();
    await Promise.all([clientWith(p1), clientWith(p2), clientWith(p1), clientWith(p2)].map((c) => c.closePullRequest(number)));
    expect(sandbox.rateLimitRefusals.write_gap ?? 0).toBe(before);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_900); // four writes, three gaps

    // Pacing that each process keeps to itself is not enough: GitHub refuses.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const alone = [createMemoryGitHubPacer(rules), createMemoryGitHubPacer(rules)].map(clientWith);
    await Promise.allSettled(alone.map((c) => c.closePullRequest(number)));
    expect(sandbox.rateLimitRefusals.write_gap ?? 0).toBeGreaterThan(before);
  } finally {
    await sandbox.close();
  }
}, 60_000);

// Exactly once under crashes: a worker process (`npm run worker`, production settings) is
// killed with SIGKILL at a chosen step — triggered deterministically by holding the matching
// sandbox request (before it is served, or after the server acted, so its answer is lost) or the
// proposal's database row — while a second worker process stands by. Each case asserts what the
// user sees: one PR, open, named by the proposal row; at most one comment; the branch holds
// exactly the params change and the PNG; the lock free; that the lost attempt was noticed by its
// heartbeat timeout (seconds, not a start-to-close of minutes); and records the recovery time
// (kill → run closed). A SIGTERM case checks a rolling restart costs no retry. The table is printed.
// (The figures are reports, not assertions: a loaded machine makes them slower, not wrong.)
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
// @temporalio/proto is CommonJS: Node's ESM loader cannot see its named exports.
import proto, { type temporal } from '@temporalio/proto';
import { progressQuery } from '../../domain/open-pr-contracts.js';
import { OWNER, GH_TOKEN, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { expectOnePrOpen } from '../support/pr-outcome.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { waitUntil } from '../support/wait.js';
import { saveHistory } from '../support/history-fixtures.js';

/** Whether the history shows an activity attempt given up for a missed heartbeat. */
function heartbeatTimedOut(history: temporal.api.history.v1.IHistory): boolean {
  const HEARTBEAT = proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT;
  return (history.events ?? []).some(
    (e) =>
      e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType === HEARTBEAT ||
      e.activityTaskStartedEventAttributes?.lastFailure?.timeoutFailureInfo?.timeoutType === HEARTBEAT,
  );
}

interface Trigger {
  /** Resolves when the worker under test is stuck at the step. */
  reached: Promise<unknown>;
  /** Lets the held request or row go (after the kill, its answer reaches nobody). */
  release(): Promise<void>;
}

interface Row {
  step: string;
  signal: string;
  held: string;
  recoveryS: number;
  prs: number;
  comments: number;
  attempts: string;
}

describe('crash matrix: a worker process killed at each step', () => {
  let h: OpenPrHarness;
  let locker: pg.Client;
  let current: WorkerProcess;
  const retired: WorkerProcess[] = [];
  const table: Row[] = [];

  beforeAll(async () => {
    // Production settings but one: step 14's UPDATE must still be waiting on the held row (on the
    // worker about to be killed) when the standby is up, not cut off by the 5 s statement timeout
    // and retried — perhaps on the standby.
    h = await startOpenPrHarness({ inProcessWorkers: false, env: { RELYLOOP_DB_STATEMENT_TIMEOUT: '60s' } });
    locker = new pg.Client({ connectionString: h.databaseUrl });
    await locker.connect();
    current = spawnWorkerProcess(h.workerEnv());
    await current.ready;
  }, 180_000);

  afterAll(async () => {
    current?.kill('SIGTERM');
    await current?.exited;
    await locker?.end();
    await h?.close();
    const lines = table.map(
      (r) =>
        `| ${r.step} | ${r.signal} | ${r.held} | ${r.recoveryS.toFixed(1)} | ${r.prs} | ${r.comments} | ${r.attempts} |`,
    );
    process.stdout.write(
      [
        '',
        '[measure] crash matrix',
        '| step | signal | held | recovery s | PRs | comments | attempts (step: n>1) |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...lines,
        '',
      ].join('\n'),
    );
  }, 60_000);

  const repoPath = (s: Seeded, rest: string) => new RegExp(`^/${OWNER}/${s.repoName}\\.git/${rest}$`);
  const restPath = (s: Seeded, rest: string) => new RegExp(`^/api/v3/repos/${OWNER}/${s.repoName}/${rest}$`);
  const hold = (method: string, path: RegExp, when: 'before' | 'after'): Trigger => {
    const held = h.sandbox.holdNext({ method, path, when });
    return { reached: held.reached, release: async () => held.release() };
  };

  /** Blocks step 14's UPDATE on the row: the kill comes while it waits, the write commits right after. */
  async function holdRow(s: Seeded): Promise<Trigger> {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM proposals WHERE id = $1 FOR UPDATE', [s.proposalId]);
    // Read from another session: inside the locker's transaction pg_stat_activity is a snapshot.
    const reached = waitUntil(
      'the UPDATE of step 14 waits on the row',
      async () =>
        Number(
          (
            await h.db.sql.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE proposals SET status = ''pr_opened''%'",
            )
          )[0]?.n,
        ) === 1,
      60_000,
      () =>
        JSON.stringify(h.sandbox.requests.slice(-5).map((r) => `${r.method} ${r.path} ${r.status}`)) +
        current.output().slice(-3000),
    );
    return {
      reached,
      release: async () => {
        await locker.query('COMMIT');
      },
    };
  }

  const cases: [step: string, held: string, arm: (s: Seeded) => Promise<Trigger> | Trigger][] = [
    ['sync', 'git info/refs, before it is served', (s) => hold('GET', repoPath(s, 'info/refs'), 'before')],
    [
      'push',
      'git-receive-pack, after the server accepted the branch',
      (s) => hold('POST', repoPath(s, 'git-receive-pack'), 'after'),
    ],
    ['open_pr', 'POST pulls, after the PR was created', (s) => hold('POST', restPath(s, 'pulls'), 'after')],
    [
      'comment',
      'POST comments, after the comment was posted',
      (s) => hold('POST', restPath(s, 'issues/\\d+/comments'), 'after'),
    ],
    ['mark_opened', 'the proposal row; the UPDATE commits after the kill', holdRow],
  ];

  /** Per-step attempts from GET …/open_pr: the table's summary, and the count of one step. */
  const attemptsOf = async (s: Seeded) => {
    const steps = (await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body.steps as {
      step: string;
      attempts: number;
    }[];
    const retried = steps.filter((x) => x.attempts > 1).map((x) => `${x.step}: ${x.attempts}`);
    return {
      summary: retried.join(', ') || 'none retried',
      of: (step: string) => steps.find((x) => x.step === step)?.attempts,
    };
  };

  test.each(cases)(
    'SIGKILL at %s (held: %s): one PR, open, named by the row; recovered in seconds',
    async (step, held, arm) => {
      const s = await seedProposal(h);
      const trigger = await arm(s);
      const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
      expect(res.status).toBe(202);
      await trigger.reached;
      // The standby is polling before the kill, so the figure is Temporal's detection, not a boot.
      const standby = spawnWorkerProcess(h.workerEnv());
      await standby.ready;
      const killedAt = Date.now();
      current.kill('SIGKILL');
      await current.exited;
      retired.push(current);
      current = standby;
      await trigger.release();
      if (step === 'mark_opened') {
        // The killed worker's UPDATE committed after it died: the retry must recognise it as its own.
        await waitUntil(
          'the orphaned UPDATE committed',
          async () =>
            (await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).status === 'pr_opened',
          10_000,
        );
      }
      const result = await h.env.client.workflow.getHandle(res.body.workflow_id).result();
      const recoveryS = (Date.now() - killedAt) / 1000;
      expect(result).toMatchObject({ outcome: 'opened' });
      const outcome = await expectOnePrOpen(h, s);
      expect(outcome.comments).toBe(1);
      const attempts = await attemptsOf(s);
      table.push({ step, signal: 'SIGKILL', held, recoveryS, ...outcome, attempts: attempts.summary });
      // The killed worker held the step: a shared step took a second attempt, the git steps a second worker.
      if (step === 'sync' || step === 'push') {
        expect((await h.env.client.workflow.getHandle(res.body.workflow_id).query(progressQuery)).gitWorkerClaims).toBe(
          2,
        );
      } else {
        expect(attempts.of(step)).toBe(2);
      }
      // A heartbeat timeout and a re-claim (push), and a retried step 14 finding its own write.
      if (step === 'push' || step === 'mark_opened')
        await saveHistory(
          `open-pr-crash-${step.replace('_', '-')}`,
          await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory(),
        );
      // Noticed by the heartbeat timeout (seconds), not a start-to-close timeout (minutes).
      expect(heartbeatTimedOut(await h.env.client.workflow.getHandle(res.body.workflow_id).fetchHistory())).toBe(true);
    },
    150_000,
  );

  test('SIGTERM during push (a rolling restart): the step finishes on the old worker, the run on the new one, nothing retried', async () => {
    const s = await seedProposal(h);
    const trigger = hold('POST', repoPath(s, 'git-receive-pack'), 'before');
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    await trigger.reached;
    const standby = spawnWorkerProcess(h.workerEnv());
    await standby.ready;
    const stoppedAt = Date.now();
    const stopping = current;
    stopping.kill('SIGTERM');
    await waitUntil(
      'the old worker begins its shutdown',
      () => stopping.output().includes('"msg":"shutting down"'),
      10_000,
      () => stopping.output(),
    );
    await trigger.release();
    expect(await stopping.exited).toBe(0);
    retired.push(stopping);
    current = standby;
    const result = await h.env.client.workflow.getHandle(res.body.workflow_id).result();
    const recoveryS = (Date.now() - stoppedAt) / 1000;
    expect(result).toMatchObject({ outcome: 'opened' });
    const outcome = await expectOnePrOpen(h, s);
    const { summary } = await attemptsOf(s);
    table.push({
      step: 'push',
      signal: 'SIGTERM',
      held: 'git-receive-pack, before it is served',
      recoveryS,
      ...outcome,
      attempts: summary,
    });
    expect(summary).toBe('none retried');
    // The git steps were not moved to another worker: the drained one finished them.
    expect((await h.env.client.workflow.getHandle(res.body.workflow_id).query(progressQuery)).gitWorkerClaims).toBe(1);
  }, 150_000);

  test('no worker process ever printed the GitHub token', () => {
    for (const w of [...retired, current]) expect(w.output()).not.toContain(GH_TOKEN);
  });
});

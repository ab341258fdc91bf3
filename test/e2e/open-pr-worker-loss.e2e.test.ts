// SPEC §2 worker-affine git work: the git steps run on the claimed worker's own task queue; when
// that worker is gone (nobody polls its queue: schedule-to-start timeout), the workflow claims
// another worker and redoes the git steps there, and the PR still opens exactly once.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OPEN_PR_WORKFLOW, progressQuery, type OpenPrInput, type OpenPrOutcome } from '../../domain/open-pr-contracts.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal } from '../support/open-pr-fixtures.js';
import { waitUntil } from '../support/wait.js';

describe('git worker lost mid-run', () => {
  let h: OpenPrHarness;
  beforeAll(async () => {
    // A lost git worker is noticed after 2 s instead of the default 10 s.
    h = await startOpenPrHarness({ env: { RELYLOOP_GIT_WORKER_START_TIMEOUT: '2s' } });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  test('the workflow re-claims another worker and completes', async () => {
    const s = await seedProposal(h);
    // Worker 1 keeps answering the shared queue (it will claim) but its git worker is gone.
    const [, deadGit] = h.initialWorkers.workers;
    deadGit?.shutdown();
    const handle = await h.env.client.workflow.start(OPEN_PR_WORKFLOW, {
      taskQueue: h.config.temporalTaskQueue, workflowId: `open-pr:${s.proposalId}`,
      args: [{ proposalId: s.proposalId } satisfies OpenPrInput],
    });
    await waitUntil('the run waits at sync on the dead queue', async () => (await handle.query(progressQuery)).currentStep === 'sync', 20_000);
    expect((await handle.query(progressQuery)).steps.find((x) => x.step === 'claim')?.note).toBe(`git steps on ${h.initialWorkers.gitTaskQueue}`);
    // Worker 1 goes away entirely; worker 2 arrives and takes over.
    await h.initialWorkers.stop();
    const second = await h.startWorkers();
    const result = (await handle.result()) as OpenPrOutcome;
    expect(result).toMatchObject({ outcome: 'opened', prNumber: 1 });
    const progress = await handle.query(progressQuery);
    expect(progress.gitWorkerClaims).toBe(2);
    expect(progress.steps.find((x) => x.step === 'claim')?.note).toBe(`git steps on ${second.gitTaskQueue}`);
    expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } })).toMatchObject({ status: 'pr_opened' });
  }, 90_000);
});

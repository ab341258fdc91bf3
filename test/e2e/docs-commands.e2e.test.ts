// Every `temporal` command README.md and docs/operations.md print works as written: each
// is run with the real CLI against a dev server holding real runs. The only substitutions are the
// placeholders (`<proposal id>`, `<config repo id>`, `<id>`, `$PROPOSAL`) and, since the test's
// server is not the default one, its address (TEMPORAL_ADDRESS) and worker task queue.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { createLogger } from '../../runtime/logger.js';
import { ensureReconcileSchedule } from '../../worker/reconcile-schedule.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { waitUntil } from '../support/wait.js';

const run = promisify(execFile);
let h: OpenPrHarness;
let done: Seeded;
let doneWorkflowId: string;

beforeAll(async () => {
  h = await startOpenPrHarness();
  done = await seedProposal(h);
  doneWorkflowId = (await h.api('POST', `/proposals/${done.proposalId}/open_pr`)).body.workflow_id;
  await h.env.client.workflow.getHandle(doneWorkflowId).result();
  // What every worker does at start (worker/main.ts, service/main.ts): the schedule commands act on it.
  await ensureReconcileSchedule(
    h.env.client,
    { taskQueue: h.config.temporalTaskQueue, intervalMs: h.config.reconcileInterval },
    createLogger({ level: 'silent', redactor: h.redactor }),
  );
}, 180_000);
afterAll(async () => {
  await h?.close();
});

/** `temporal …` commands of a Markdown file: lines of its code blocks and inline code spans. */
async function commandsOf(file: string): Promise<string[]> {
  const text = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
  const inBlocks = [...text.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? '').split('\n'))
    .map((l) => l.trim())
    .filter((l) => l.startsWith('temporal '));
  const inline = [...text.matchAll(/`(temporal [^`]+)`/g)].map((m) => m[1] as string);
  return (
    [...inBlocks, ...inline]
      .map((c) => c.replace(/\s+#\s.*$/, '').trim())
      // What `npm start` runs itself, not a command for operators (the launcher test covers it).
      .filter((c) => !c.startsWith('temporal server start-dev'))
  );
}

test('README.md and docs/operations.md: every temporal command runs against the dev server', async () => {
  const commands = [...(await commandsOf('README.md')), ...(await commandsOf('docs/operations.md'))];
  expect(commands.length).toBeGreaterThanOrEqual(12);
  const cli = findTemporalCli(process.env);
  // A run to cancel: held at the sandbox before it creates its PR.
  const live = await seedProposal(h);
  const held = h.sandbox.holdNext({
    method: 'POST',
    path: new RegExp(`^/api/v3/repos/${OWNER}/${live.repoName}/pulls$`),
    when: 'before',
  });
  const liveWorkflowId = (await h.api('POST', `/proposals/${live.proposalId}/open_pr`)).body.workflow_id as string;
  await held.reached;

  const results: { command: string; code: number; output: string }[] = [];
  for (const command of commands) {
    const target = command.includes('workflow cancel') ? liveWorkflowId : doneWorkflowId;
    const concrete = command
      .replaceAll('<proposal id>', done.proposalId)
      .replaceAll('<config repo id>', done.configRepoId)
      .replaceAll('<id>', target)
      .replaceAll('--task-queue relyloop-pr', `--task-queue ${h.config.temporalTaskQueue}`);
    try {
      const { stdout } = await run('/bin/bash', ['-c', concrete], {
        env: {
          PATH: `${path.dirname(cli)}:/usr/bin:/bin`,
          HOME: process.env.HOME ?? '/tmp',
          TEMPORAL_ADDRESS: h.env.address,
          PROPOSAL: done.proposalId,
        },
      });
      results.push({ command, code: 0, output: stdout });
    } catch (error) {
      const e = error as { code?: number; stderr?: string };
      results.push({ command, code: e.code ?? -1, output: e.stderr ?? '' });
    }
  }
  held.release();
  expect(results.filter((r) => r.code !== 0)).toEqual([]);
  // And they did what the docs say.
  const output = (fragment: string) => results.find((r) => r.command.includes(fragment))?.output ?? '';
  expect(output('"ProposalId=\\"$PROPOSAL\\""')).toContain(doneWorkflowId);
  expect(output('--type progress')).toContain('"currentStep":"release"');
  expect(output('schedule list')).toContain('relyloop-reconcile-pr-states');
  await waitUntil(
    'the cancelled run ends cancelled',
    async () => (await h.env.client.workflow.getHandle(liveWorkflowId).describe()).status.name === 'CANCELLED',
  );
}, 180_000);

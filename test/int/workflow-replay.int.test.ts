// Histories recorded by the end-to-end tests replay on the current workflow code without
// non-determinism: those of each release (test/fixtures/histories/{version}/, frozen) and those
// recorded since (unreleased/). A change that breaks one must be versioned with patched() instead
// (docs/development.md "Workflow changes").
import { describe, expect, test } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';
import { HISTORY_DIR, loadHistory } from '../support/history-fixtures.js';

const files = (await readdir(HISTORY_DIR, { recursive: true, encoding: 'utf8' }))
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('recorded workflow histories replay on the current code', () => {
  test('there are recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  test('every history replays without a determinism error', async () => {
    const histories = await Promise.all(
      files.map(async (f) => ({
        workflowId: f.replace(/\.json$/, ''), // e.g. 0.1.0/open-pr-manual
        history: loadHistory(await readFile(`${HISTORY_DIR}${f}`, 'utf8')),
      })),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

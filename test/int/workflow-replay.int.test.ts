// SPEC §5 / issue 5 test 14: histories recorded by the end-to-end tests (test/fixtures/histories)
// replay on the current workflow code without non-determinism. A change that breaks a recorded
// history must be versioned (patched) instead. `v1-*` were recorded before issue 8 (load returned
// the context alone, step 14 a boolean): they prove runs in flight during that upgrade still replay.
import { describe, expect, test } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';
import { HISTORY_DIR, loadHistory } from '../support/history-fixtures.js';

const files = (await readdir(HISTORY_DIR)).filter((f) => f.endsWith('.json')).sort();

describe('recorded workflow histories replay on the current code', () => {
  test('there are recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  test('every history replays without a determinism error', async () => {
    const histories = await Promise.all(files.map(async (f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: loadHistory(await readFile(`${HISTORY_DIR}${f}`, 'utf8')),
    })));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

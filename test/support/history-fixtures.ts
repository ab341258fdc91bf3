// Workflow histories recorded by the end-to-end tests, kept under test/fixtures/histories so the
// replay test can prove the current workflow code still replays them (no non-determinism).
// They are rewritten only when RECORD_HISTORIES=1.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';

export const HISTORY_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

export async function saveHistory(name: string, history: temporal.api.history.v1.IHistory): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  await mkdir(HISTORY_DIR, { recursive: true });
  await writeFile(`${HISTORY_DIR}${name}.json`, `${JSON.stringify(history, null, 1)}\n`);
}

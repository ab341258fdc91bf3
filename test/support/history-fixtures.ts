// Workflow histories recorded by the end-to-end tests, kept under test/fixtures/histories so the
// replay test can prove the current workflow code still replays them (no non-determinism). They
// are written, into unreleased/, only when RECORD_HISTORIES=1 (`RECORD_HISTORIES=1 npm test --
// test/e2e/open-pr`); a release freezes them under its version (docs/development.md).
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
// @temporalio/proto is CommonJS: Node's ESM loader cannot see its named exports.
import proto, { type temporal } from '@temporalio/proto';

export const HISTORY_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const RECORD_DIR = `${HISTORY_DIR}unreleased/`;

export async function saveHistory(name: string, history: temporal.api.history.v1.IHistory): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  await mkdir(RECORD_DIR, { recursive: true });
  // protobufjs JSON (enum names, 64-bit ints as strings); loadHistory reads it back with fromObject.
  const json = proto.temporal.api.history.v1.History.fromObject(JSON.parse(JSON.stringify(history))).toJSON();
  await writeFile(`${RECORD_DIR}${name}.json`, `${JSON.stringify(json)}\n`);
}

export function loadHistory(text: string): temporal.api.history.v1.History {
  return proto.temporal.api.history.v1.History.fromObject(JSON.parse(text));
}

// A throwaway embedded PGlite directory per test.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function createTestPgliteDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'relyloop-pglite-'));
  return { dir: path.join(root, 'pglite'), remove: () => rm(root, { recursive: true, force: true }) };
}

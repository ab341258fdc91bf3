// An exclusive pid lock file: refuses a second process while the holder is alive, and takes over
// a lock left behind by a process that died.
import { open, readFile, rm } from 'node:fs/promises';
import { isProcessAlive } from '../runtime/process-alive.js';

export interface DirLock {
  release(): Promise<void>;
}

export class LockHeldError extends Error {
  override name = 'LockHeldError';
}

export async function acquireDirLock(file: string, what: string): Promise<DirLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
        throw new LockHeldError(`${what} is in use by process ${holder} (lock file ${file}); stop it first`);
      }
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new LockHeldError(`could not take the lock ${file} for ${what}`);
}

// Finds the `temporal` CLI: `temporal` on PATH, then the copy
// `npm run setup` installs in the user cache (scripts/install-temporal-cli.sh keeps the same path).
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where setup installs the CLI; shared with scripts/install-temporal-cli.sh. */
export function cachedTemporalCliPath(env: { XDG_CACHE_HOME?: string }): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'relyloop-pr', 'bin', 'temporal');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
}

export function findTemporalCli(env: { PATH?: string; XDG_CACHE_HOME?: string }): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'temporal');
    if (isExecutable(candidate)) return candidate;
  }
  const cached = cachedTemporalCliPath(env);
  if (isExecutable(cached)) return cached;
  throw new TemporalCliNotFoundError(
    `the temporal CLI was not found (on PATH, or ${cached}); run \`npm run setup\` to install it`,
  );
}

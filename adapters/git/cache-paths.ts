// Local paths of the repo cache (docs/architecture.md "The open-PR workflow" step 5, "Security
// rules"): `{repoCacheDir}/{config_repo_id}`. The id becomes a directory name, so it must be a uuid
// and the resolved path must stay inside the cache dir; anything else is refused before the file
// system is touched.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.js';
import { isStrictlyInside, isUuid } from '../../domain/paths.js';

function assertInside(root: string, candidate: string): string {
  if (!isStrictlyInside(root, candidate))
    throw new AppError({ code: 'CLONE_FAILED', message: 'repo cache path escapes the cache dir' });
  return candidate;
}

/** The git dir of one config repo's cache. Throws CLONE_FAILED for a non-uuid id. */
export function assertCacheGitdir(cacheRoot: string, configRepoId: string): string {
  if (!isUuid(configRepoId)) {
    throw new AppError({ code: 'CLONE_FAILED', message: 'config repo id must be a uuid to name its cache dir' });
  }
  const root = path.resolve(cacheRoot);
  return assertInside(root, path.resolve(root, configRepoId.toLowerCase()));
}

/** A fresh sibling dir a clone is built in before it is renamed into place. */
export function createStagingGitdir(cacheRoot: string, configRepoId: string): string {
  const root = path.resolve(cacheRoot);
  return assertInside(root, path.resolve(root, `.staging-${configRepoId.toLowerCase()}-${randomUUID()}`));
}

/** Git ref names we create locally are our own branch names; keep them to a safe alphabet. */
export function assertBranchName(branch: string): string {
  if (
    !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(branch) ||
    branch.split('/').some((s) => s === '.' || s === '..' || s.endsWith('.lock'))
  ) {
    throw new AppError({ code: 'CLONE_FAILED', message: `refusing unsafe branch name ${JSON.stringify(branch)}` });
  }
  return branch;
}

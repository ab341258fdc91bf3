// Decides whether an existing cache can be reused (docs/architecture.md "The open-PR workflow" step
// 5). A cache is thrown away and cloned again when it is damaged (unreadable HEAD, missing objects)
// or when repeated shallow fetches and commits have grown it past a bound: every fetch that brings
// objects adds a packfile, remote-tip reads add shallow lines, every commit leaves loose objects
// (isomorphic-git never repacks), and reads get slower as they pile up.
import fs from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';

export interface CacheBounds {
  maxPackfiles: number;
  maxShallowLines: number;
  maxLooseObjects: number;
}

export const DEFAULT_CACHE_BOUNDS: CacheBounds = { maxPackfiles: 32, maxShallowLines: 64, maxLooseObjects: 4096 };

export type CacheHealth = { usable: true } | { usable: false; reason: string };

async function countPackfiles(gitdir: string): Promise<number> {
  try {
    return (await readdir(path.join(gitdir, 'objects', 'pack'))).filter((f) => f.endsWith('.pack')).length;
  } catch {
    return 0;
  }
}

async function countShallowLines(gitdir: string): Promise<number> {
  try {
    return (await readFile(path.join(gitdir, 'shallow'), 'utf8')).split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
}

async function countLooseObjects(gitdir: string): Promise<number> {
  const objects = path.join(gitdir, 'objects');
  const dirs = (await readdir(objects).catch(() => [] as string[])).filter((dir) => /^[0-9a-f]{2}$/.test(dir));
  const counts = await Promise.all(
    dirs.map(async (dir) => (await readdir(path.join(objects, dir)).catch(() => [])).length),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function tryFindDamage(gitdir: string): Promise<string | undefined> {
  try {
    const head = await git.resolveRef({ fs, gitdir, ref: 'HEAD' });
    const cache = {};
    const { commit } = await git.readCommit({ fs, gitdir, cache, oid: head });
    await git.readTree({ fs, gitdir, cache, oid: commit.tree });
    return undefined;
  } catch (error) {
    return `damaged: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The checks read the disk side by side (each is a few file-system calls, most of their time a wait). */
export async function tryCheckCacheHealth(gitdir: string, bounds: CacheBounds): Promise<CacheHealth> {
  const [damage, packs, shallow, loose] = await Promise.all([
    tryFindDamage(gitdir),
    countPackfiles(gitdir),
    countShallowLines(gitdir),
    countLooseObjects(gitdir),
  ]);
  if (damage !== undefined) return { usable: false, reason: damage };
  if (packs > bounds.maxPackfiles)
    return { usable: false, reason: `${packs} packfiles exceed the bound of ${bounds.maxPackfiles}` };
  if (shallow > bounds.maxShallowLines)
    return { usable: false, reason: `${shallow} shallow lines exceed the bound of ${bounds.maxShallowLines}` };
  if (loose > bounds.maxLooseObjects)
    return { usable: false, reason: `${loose} loose objects exceed the bound of ${bounds.maxLooseObjects}` };
  return { usable: true };
}

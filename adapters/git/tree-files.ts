// Reading and writing files straight in the object store (docs/architecture.md "The open-PR
// workflow" steps 7 and 10): no working tree, so cost does not grow with the size of the
// repository, only with the depth of the paths.
import fs from 'node:fs';
import git, { type TreeEntry } from 'isomorphic-git';
import { AppError } from '../../domain/errors.js';

export const TREE_MODE = '040000';
export const REGULAR_MODES: ReadonlySet<string> = new Set(['100644', '100755']);
const MODE_NAMES: Record<string, string> = { '040000': 'a directory', '120000': 'a symlink', '160000': 'a submodule' };

export interface ObjectStore {
  gitdir: string;
  /** isomorphic-git's pack cache, shared by the calls of one operation. */
  cache: object;
}

export type BlobAtPath =
  | { ok: true; content: Uint8Array; mode: string; oid: string }
  | { ok: false; code: 'PARAMS_FILE_NOT_FOUND' | 'CONFIG_PATH_INVALID'; message: string };

function describeMode(mode: string): string {
  return MODE_NAMES[mode] ?? `an entry of mode ${mode}`;
}

/**
 * Walks `filePath` from the commit's root tree. Modes are checked before any blob is read: a
 * symlink's blob is its target text and would otherwise read like a file (docs/architecture.md "Security rules").
 */
export async function readBlobAtPath(store: ObjectStore, commitOid: string, filePath: string): Promise<BlobAtPath> {
  const { gitdir, cache } = store;
  const { commit } = await git.readCommit({ fs, gitdir, cache, oid: commitOid });
  const segments = filePath.split('/');
  let treeOid = commit.tree;
  for (const [index, name] of segments.entries()) {
    const { tree } = await git.readTree({ fs, gitdir, cache, oid: treeOid });
    const entry = tree.find((e) => e.path === name);
    const walked = segments.slice(0, index + 1).join('/');
    if (entry === undefined) {
      const where = walked === filePath ? filePath : `${filePath} (${walked} does not exist)`;
      return { ok: false, code: 'PARAMS_FILE_NOT_FOUND', message: `${where} is not at the base commit` };
    }
    const isLast = index === segments.length - 1;
    if (!isLast) {
      if (entry.mode !== TREE_MODE)
        return {
          ok: false,
          code: 'CONFIG_PATH_INVALID',
          message: `${walked} is ${describeMode(entry.mode)}, not a directory`,
        };
      treeOid = entry.oid;
      continue;
    }
    if (!REGULAR_MODES.has(entry.mode))
      return {
        ok: false,
        code: 'CONFIG_PATH_INVALID',
        message: `${walked} is ${describeMode(entry.mode)}, not a regular file`,
      };
    const { blob } = await git.readBlob({ fs, gitdir, cache, oid: entry.oid });
    return { ok: true, content: blob, mode: entry.mode, oid: entry.oid };
  }
  return { ok: false, code: 'CONFIG_PATH_INVALID', message: 'empty path' };
}

export interface FileWrite {
  /** Repository-relative, '/'-separated. */
  path: string;
  content: Uint8Array;
  /** Defaults to the existing entry's mode, else 100644. */
  mode?: '100644' | '100755';
}

interface BlobEdit {
  path: string;
  oid: string;
  mode: string | undefined;
}

async function rewriteTree(
  store: ObjectStore,
  treeOid: string | undefined,
  edits: BlobEdit[],
  prefix: string,
): Promise<string> {
  const { gitdir, cache } = store;
  const entries: TreeEntry[] =
    treeOid === undefined ? [] : (await git.readTree({ fs, gitdir, cache, oid: treeOid })).tree;
  const byName = new Map(entries.map((e) => [e.path, e]));
  const nested = new Map<string, BlobEdit[]>();
  for (const edit of edits) {
    const slash = edit.path.indexOf('/');
    if (slash === -1) {
      const existing = byName.get(edit.path);
      if (existing?.mode === TREE_MODE || existing?.mode === '160000') {
        throw new AppError({
          code: 'CONFIG_PATH_INVALID',
          message: `${prefix}${edit.path} is ${describeMode(existing.mode)}; cannot write a file there`,
        });
      }
      const mode = edit.mode ?? (existing !== undefined && REGULAR_MODES.has(existing.mode) ? existing.mode : '100644');
      byName.set(edit.path, { path: edit.path, mode, oid: edit.oid, type: 'blob' });
      continue;
    }
    const head = edit.path.slice(0, slash);
    nested.set(head, [...(nested.get(head) ?? []), { ...edit, path: edit.path.slice(slash + 1) }]);
  }
  for (const [name, subEdits] of nested) {
    const existing = byName.get(name);
    if (existing !== undefined && existing.mode !== TREE_MODE) {
      throw new AppError({
        code: 'CONFIG_PATH_INVALID',
        message: `${prefix}${name} is ${describeMode(existing.mode)}, not a directory`,
      });
    }
    const oid = await rewriteTree(store, existing?.oid, subEdits, `${prefix}${name}/`);
    byName.set(name, { path: name, mode: TREE_MODE, oid, type: 'tree' });
  }
  return git.writeTree({ fs, gitdir, tree: [...byName.values()] });
}

/** Writes the blobs and every tree from their directories up to the root; returns the new root tree. */
export async function writeFilesToTree(
  store: ObjectStore,
  baseTreeOid: string,
  files: readonly FileWrite[],
): Promise<string> {
  const edits: BlobEdit[] = [];
  for (const file of files) {
    const oid = await git.writeBlob({ fs, gitdir: store.gitdir, blob: file.content });
    edits.push({ path: file.path, oid, mode: file.mode });
  }
  return rewriteTree(store, baseTreeOid, edits, '');
}

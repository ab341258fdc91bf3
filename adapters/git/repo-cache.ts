// GitRepoCache: the adapter over isomorphic-git for docs/architecture.md "The open-PR workflow" steps 5–11. One
// persistent cache per config repo, bare-style (no working tree): a shallow single-branch clone
// on first use, a shallow fetch of the base branch afterwards. The token reaches git only in memory,
// through `onAuth` and the request header built from it (docs/architecture.md "Security rules"):
// never a URL, `.git/config` or any other file of the cache.
import fs from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import git, { type AuthCallback, type HttpClient } from 'isomorphic-git';
import { parseRelyLoopTrailers, type RelyLoopTrailers } from '../../domain/commit-message.js';
import { AppError } from '../../domain/errors.js';
import { paramsFilePath, tryConfigPathProblem, tryTemplateNameProblem } from '../../domain/paths.js';
import type { Redactor } from '../../domain/redact.js';
import { DEFAULT_CACHE_BOUNDS, tryCheckCacheHealth, type CacheBounds } from './cache-health.js';
import { assertBranchName, assertCacheGitdir, createStagingGitdir } from './cache-paths.js';
import { isServerOrNetworkFailure, toGitTransferError } from './git-errors.js';
import { createGitHttpClient } from './git-http-client.js';
import { pushBranchCreateOnly, type PushOutcome } from './push-branch.js';
import { tapRefAdvertisement } from './ref-advertisement.js';
import { readBlobAtPath, writeFilesToTree, type FileWrite } from './tree-files.js';

export type { PushOutcome } from './push-branch.js';
export type { FileWrite } from './tree-files.js';

export interface GitIdentity {
  name: string;
  email: string;
}

/** Which cache: steps that touch only the local object store need nothing more (no credentials). */
export interface CacheRef {
  configRepoId: string;
}

/**
 * Which cache and how to reach its remote, for the steps that talk to it (sync, remote tips,
 * push). The credentials stay inside `onAuth`, built by the calling activity from the secret it
 * read (which registered it with the redactor, docs/architecture.md "Security rules").
 */
export interface RemoteRef extends CacheRef {
  url: string;
  baseBranch: string;
  onAuth: AuthCallback;
}

/** GitHub's documented form for token auth over HTTPS. */
export function tokenAuth(token: string): AuthCallback {
  return () => ({ username: 'x-access-token', password: token });
}

export interface SyncResult {
  baseCommit: string;
  cloned: boolean;
  /** Why an existing cache was thrown away, when it was. */
  recloneReason?: string;
  /**
   * The asked-for branch as the remote listed it when the fetch began: its tip, null when it was
   * not there, undefined when no list was read (then ask the remote).
   */
  branchTip?: string | null;
}

export interface RemoteBranch {
  name: string;
  oid: string;
}

export interface RemoteTip {
  oid: string;
  trailers: RelyLoopTrailers;
}

export interface ParamsFile {
  path: string;
  text: string;
  mode: string;
}

export interface GitRepoCache {
  /** Fetches the base branch; `branch`: also tell that branch's tip from the refs the fetch saw. */
  sync(target: RemoteRef, options?: { branch?: string }): Promise<SyncResult>;
  listRemoteBranches(target: RemoteRef, options: { prefix: string }): Promise<RemoteBranch[]>;
  /** The remote branch's tip and its RelyLoop trailers, or undefined when the branch does not exist. */
  readRemoteTip(target: RemoteRef, branch: string): Promise<RemoteTip | undefined>;
  readParamsFile(
    cache: CacheRef,
    input: { commit: string; configPath: string; templateName: string },
  ): Promise<ParamsFile>;
  createCommit(
    cache: CacheRef,
    input: { baseCommit: string; files: readonly FileWrite[]; message: string },
  ): Promise<string>;
  /** The base commit's root tree, and each path's mode there (undefined: a new file). */
  describeBase(
    cache: CacheRef,
    input: { baseCommit: string; paths: readonly string[] },
  ): Promise<{ tree: string; modes: Record<string, '100644' | '100755' | undefined> }>;
  pushBranch(target: RemoteRef, input: { branch: string; commit: string }): Promise<PushOutcome>;
}

export interface GitRepoCacheDeps {
  cacheDir: string;
  redactor: Redactor;
  /** Author and committer of every commit (config; never the host's git identity). */
  author: GitIdentity;
  now?: () => Date;
  bounds?: CacheBounds;
  /** Transport with an idle timeout (git-http-client.ts); a default one when omitted. */
  http?: HttpClient;
  /** How many caches keep their pack cache between operations, and how long (PACK_CACHE_LIMITS). */
  packCacheLimits?: typeof PACK_CACHE_LIMITS;
  /** Test seam: runs inside a push after the create-only check, before the pack is sent. */
  beforePushSend?: () => Promise<void>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * One fetch at a time into a cache: a run's steps and a preview of the same repo (which takes no
 * repo lock) may sync it together. Runs of one repo are already serialized by its lock; a preview
 * only adds objects and moves the base branch's tracking ref, so a run keeps reading the commit
 * its own sync returned.
 */
function createCacheTurns() {
  const tails = new Map<string, Promise<unknown>>();
  return async function inTurn<T>(gitdir: string, fn: () => Promise<T>): Promise<T> {
    const before = tails.get(gitdir) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => undefined);
    tails.set(gitdir, tail);
    try {
      return await mine;
    } finally {
      if (tails.get(gitdir) === tail) tails.delete(gitdir);
    }
  };
}

/** How many caches keep their pack cache between operations, and for how long unused. */
export const PACK_CACHE_LIMITS = { gitdirs: 8, idleMs: 30_000 };

/**
 * isomorphic-git's pack cache (the parsed pack indexes, and the packs read) kept per cache between
 * operations, for the few used last: each operation otherwise listed, read and parsed every pack
 * index of the cache again (one per fetch, up to `maxPackfiles`; 20,000 entries each on a large
 * repo) and read the pack again. A pack never changes once written (it is named by its hash) and
 * a new one is found by the next read's listing of the pack dir. Dropped after `idleMs` unused and
 * when the cache is removed or cloned anew. The health check reads the disk with a cache of its own.
 */
function createPackCaches(limits = PACK_CACHE_LIMITS) {
  const held = new Map<string, { cache: object; idle: NodeJS.Timeout }>();
  const drop = (gitdir: string) => {
    clearTimeout(held.get(gitdir)?.idle);
    held.delete(gitdir);
  };
  return {
    of(gitdir: string): object {
      const cache = held.get(gitdir)?.cache ?? {};
      drop(gitdir);
      held.set(gitdir, { cache, idle: setTimeout(() => drop(gitdir), limits.idleMs).unref() });
      for (const oldest of held.keys()) {
        if (held.size <= limits.gitdirs) break;
        drop(oldest);
      }
      return cache;
    },
    drop,
  };
}

/**
 * The transport with the target's credentials on every request to its origin, from the first
 * one: git's smart HTTP would otherwise ask each operation's first request again after a 401
 * challenge (one round trip more per sync, branch check and push). `onAuth` stays for a server
 * that refuses them. A request to any other origin (a redirect) goes without.
 */
function withCredentials(http: HttpClient, target: RemoteRef): HttpClient {
  const auth = target.onAuth(target.url, {});
  if (auth === undefined || auth instanceof Promise || auth.username === undefined) return http;
  const authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  const origin = new URL(target.url).origin;
  return {
    request: (req) =>
      http.request(
        new URL(req.url).origin === origin &&
          !Object.keys(req.headers ?? {}).some((h) => h.toLowerCase() === 'authorization')
          ? { ...req, headers: { ...req.headers, authorization } }
          : req,
      ),
  };
}

export function createGitRepoCache(deps: GitRepoCacheDeps): GitRepoCache {
  const { redactor } = deps;
  const inTurn = createCacheTurns();
  const packCaches = createPackCaches(deps.packCacheLimits);
  const transport = deps.http ?? createGitHttpClient();
  const bounds = deps.bounds ?? DEFAULT_CACHE_BOUNDS;
  const now = deps.now ?? (() => new Date());

  function prepare(target: RemoteRef): { gitdir: string; onAuth: AuthCallback; http: HttpClient } {
    assertBranchName(target.baseBranch);
    return {
      gitdir: assertCacheGitdir(deps.cacheDir, target.configRepoId),
      onAuth: target.onAuth,
      http: withCredentials(transport, target),
    };
  }

  async function pointOriginHead(gitdir: string, baseBranch: string): Promise<void> {
    // Without refs/remotes/origin/HEAD isomorphic-git's push cannot skip the base tree's objects
    // and re-sends the whole tree with every new branch (seconds instead of milliseconds on 20k files).
    await git.writeRef({
      fs,
      gitdir,
      ref: 'refs/remotes/origin/HEAD',
      value: `refs/remotes/origin/${baseBranch}`,
      symbolic: true,
      force: true,
    });
  }

  async function clone(target: RemoteRef, gitdir: string, onAuth: AuthCallback, http: HttpClient): Promise<string> {
    const staging = createStagingGitdir(deps.cacheDir, target.configRepoId);
    try {
      // noCheckout: `dir` is required by the types but never written to.
      await git.clone({
        fs,
        http,
        dir: staging,
        gitdir: staging,
        url: target.url,
        ref: target.baseBranch,
        singleBranch: true,
        depth: 1,
        noCheckout: true,
        noTags: true,
        onAuth,
        cache: {},
      });
      await pointOriginHead(staging, target.baseBranch);
      const baseCommit = await git.resolveRef({ fs, gitdir: staging, ref: `refs/remotes/origin/${target.baseBranch}` });
      await rename(staging, gitdir);
      return baseCommit;
    } catch (error) {
      throw toGitTransferError('clone', error, redactor);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async function fetchBase(target: RemoteRef, gitdir: string, onAuth: AuthCallback, http: HttpClient): Promise<string> {
    const configured = await git.getConfig({ fs, gitdir, path: 'remote.origin.url' });
    if (configured !== target.url) throw new Error('the cache points at another remote URL');
    const tracking = `refs/remotes/origin/${target.baseBranch}`;
    const known = await git.resolveRef({ fs, gitdir, ref: tracking }).then(
      () => true,
      () => false,
    );
    // When the cache holds the base branch, fetch incrementally from the shallow boundary: `ref`
    // only names the local "have". A `depth: 1` re-fetch makes the server send the whole tree
    // again (1.5 MB and 2.4 s instead of 300 B and 70 ms on 20,000 files; scripts/bench-git.ts).
    const result = await git.fetch({
      fs,
      http,
      gitdir,
      url: target.url,
      remote: 'origin',
      ref: tracking,
      remoteRef: target.baseBranch,
      singleBranch: true,
      tags: false,
      onAuth,
      cache: packCaches.of(gitdir),
      ...(known ? {} : { depth: 1 }),
    });
    await pointOriginHead(gitdir, target.baseBranch);
    if (result.fetchHead === null) throw new Error(`fetch of ${target.baseBranch} returned no commit`);
    return result.fetchHead;
  }

  async function syncInTurn(
    target: RemoteRef,
    gitdir: string,
    onAuth: AuthCallback,
    http: HttpClient,
  ): Promise<SyncResult> {
    await mkdir(deps.cacheDir, { recursive: true });
    let recloneReason: string | undefined;
    if (await exists(gitdir)) {
      const health = await tryCheckCacheHealth(gitdir, bounds);
      if (health.usable) {
        try {
          return { baseCommit: await fetchBase(target, gitdir, onAuth, http), cloned: false };
        } catch (error) {
          // The server said no (auth, missing repo or branch, outage): a new clone would not help.
          if (isServerOrNetworkFailure(error)) throw toGitTransferError('fetch', error, redactor);
          recloneReason = redactor.redactString(
            `fetch into the cache failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      } else {
        recloneReason = health.reason;
      }
      await rm(gitdir, { recursive: true, force: true });
    }
    // A cache cloned anew starts with no pack of the one it replaces kept in memory.
    packCaches.drop(gitdir);
    const baseCommit = await clone(target, gitdir, onAuth, http);
    return recloneReason === undefined ? { baseCommit, cloned: true } : { baseCommit, cloned: true, recloneReason };
  }

  return {
    async sync(target, options = {}) {
      const { gitdir, onAuth, http } = prepare(target);
      if (options.branch === undefined) return inTurn(gitdir, () => syncInTurn(target, gitdir, onAuth, http));
      assertBranchName(options.branch);
      const tap = tapRefAdvertisement(http);
      const synced = await inTurn(gitdir, () => syncInTurn(target, gitdir, onAuth, tap.http));
      const refs = tap.refs();
      return refs === undefined ? synced : { ...synced, branchTip: refs.get(`refs/heads/${options.branch}`) ?? null };
    },

    async listRemoteBranches(target, { prefix }) {
      const { onAuth, http } = prepare(target);
      try {
        const refs = await git.listServerRefs({
          http,
          url: target.url,
          onAuth,
          prefix: `refs/heads/${prefix}`,
          protocolVersion: 2,
        });
        return refs.map((r) => ({ name: r.ref.slice('refs/heads/'.length), oid: r.oid }));
      } catch (error) {
        throw toGitTransferError('list remote branches', error, redactor);
      }
    },

    async readRemoteTip(target, branch) {
      const { gitdir, onAuth, http } = prepare(target);
      assertBranchName(branch);
      const tip = (await this.listRemoteBranches(target, { prefix: branch })).find((b) => b.name === branch);
      if (tip === undefined) return undefined;
      const cache = packCaches.of(gitdir);
      let message: string;
      try {
        message = (await git.readCommit({ fs, gitdir, cache, oid: tip.oid })).commit.message;
      } catch {
        // Not in the cache yet: fetch just that commit (depth 1), read it, drop the ref again.
        try {
          await inTurn(gitdir, () =>
            git.fetch({
              fs,
              http,
              gitdir,
              url: target.url,
              remote: 'origin',
              ref: branch,
              remoteRef: branch,
              singleBranch: true,
              depth: 1,
              tags: false,
              onAuth,
              cache,
            }),
          );
        } catch (error) {
          throw toGitTransferError('fetch', error, redactor);
        } finally {
          await git.deleteRef({ fs, gitdir, ref: `refs/remotes/origin/${branch}` }).catch(() => undefined);
        }
        message = (await git.readCommit({ fs, gitdir, cache, oid: tip.oid })).commit.message;
      }
      return { oid: tip.oid, trailers: parseRelyLoopTrailers(message) };
    },

    async readParamsFile(cache, { commit, configPath, templateName }) {
      const gitdir = assertCacheGitdir(deps.cacheDir, cache.configRepoId);
      const problem = tryConfigPathProblem(configPath) ?? tryTemplateNameProblem(templateName);
      if (problem !== undefined) throw new AppError({ code: 'CONFIG_PATH_INVALID', message: problem });
      const filePath = paramsFilePath(configPath, templateName);
      const blob = await readBlobAtPath({ gitdir, cache: packCaches.of(gitdir) }, commit, filePath);
      if (!blob.ok) throw new AppError({ code: blob.code, message: blob.message });
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(blob.content);
      } catch {
        throw new AppError({ code: 'PARAMS_FILE_NOT_FOUND', message: `${filePath} is not UTF-8 text` });
      }
      return { path: filePath, text, mode: blob.mode };
    },

    async createCommit(cache, { baseCommit, files, message }) {
      const gitdir = assertCacheGitdir(deps.cacheDir, cache.configRepoId);
      const store = { gitdir, cache: packCaches.of(gitdir) };
      const { commit: base } = await git.readCommit({ fs, gitdir, cache: store.cache, oid: baseCommit });
      const tree = await writeFilesToTree(store, base.tree, files);
      const signature = { ...deps.author, timestamp: Math.floor(now().getTime() / 1000), timezoneOffset: 0 };
      // Redacted like every text that leaves for the forge (the message is rendered from the proposal).
      return git.writeCommit({
        fs,
        gitdir,
        commit: {
          message: redactor.redactString(message),
          tree,
          parent: [baseCommit],
          author: signature,
          committer: signature,
        },
      });
    },

    async describeBase(cache, { baseCommit, paths }) {
      const gitdir = assertCacheGitdir(deps.cacheDir, cache.configRepoId);
      const store = { gitdir, cache: packCaches.of(gitdir) };
      const { commit } = await git.readCommit({ fs, gitdir, cache: store.cache, oid: baseCommit });
      const modes: Record<string, '100644' | '100755' | undefined> = {};
      for (const p of paths) {
        const blob = await readBlobAtPath(store, baseCommit, p);
        modes[p] = blob.ok && (blob.mode === '100644' || blob.mode === '100755') ? blob.mode : undefined;
      }
      return { tree: commit.tree, modes };
    },

    async pushBranch(target, { branch, commit }) {
      const { gitdir, onAuth, http } = prepare(target);
      assertBranchName(branch);
      return pushBranchCreateOnly({
        gitdir,
        http,
        url: target.url,
        onAuth,
        branch,
        commit,
        redactor,
        cache: packCaches.of(gitdir),
        beforeSend: deps.beforePushSend,
      });
    },
  };
}

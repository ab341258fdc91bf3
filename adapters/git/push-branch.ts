// Create-only push (docs/architecture.md "The open-PR workflow" steps 6 and 11). Never a force
// push: an existing remote branch is refused before anything is sent (`onPrePush` sees the
// advertised tip), and a branch created by someone else between that check and our update is
// rejected by the server, because the update command says "create" (old id all zeros). A remote
// already at our commit counts as pushed.
import fs from 'node:fs';
import git, { Errors, type AuthCallback, type HttpClient } from 'isomorphic-git';
import { AppError } from '../../domain/errors.js';
import type { Redactor } from '../../domain/redact.js';
import { toGitTransferError } from './git-errors.js';

const ZERO_OID = '0000000000000000000000000000000000000000';

export type PushOutcome = 'pushed' | 'already-on-remote';

export interface PushBranchInput {
  gitdir: string;
  http: HttpClient;
  url: string;
  onAuth: AuthCallback;
  branch: string;
  commit: string;
  redactor: Redactor;
  /** isomorphic-git's pack cache of this gitdir (repo-cache.ts `packCaches`). */
  cache?: object;
  /** Runs after the create-only check, right before the pack is sent (tests stage a race here). */
  beforeSend?: (() => Promise<void>) | undefined;
}

function branchExists(branch: string, detail: string): AppError {
  return new AppError({
    code: 'BRANCH_EXISTS',
    message: `branch ${branch} already exists on the remote (${detail}); it is never overwritten`,
  });
}

/**
 * A ref update the server's policy declined (GitHub: branch protection, GH006, or a ruleset,
 * GH013; Gitea: a protected branch rule): pushing again is refused again, so it is terminal, with
 * the forge's own explanation.
 */
const DECLINED = /\bdeclined\b|\bprotected branch\b|\brule violations?\b/i;

function branchProtected(branch: string, reason: string, remoteMessages: string[], redactor: Redactor): AppError {
  const explanation = remoteMessages
    .join('')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^(error:|- )|GH0\d\d/.test(l))
    .join(' ');
  return new AppError({
    code: 'BRANCH_PROTECTED',
    message: redactor.redactString(
      `the forge declined the push of ${branch} (branch protection or a ruleset): ${explanation || reason}`,
    ),
  });
}

async function readRemoteTip(input: PushBranchInput): Promise<string | undefined> {
  const ref = `refs/heads/${input.branch}`;
  const refs = await git.listServerRefs({
    http: input.http,
    url: input.url,
    onAuth: input.onAuth,
    prefix: ref,
    protocolVersion: 2,
  });
  return refs.find((r) => r.ref === ref)?.oid;
}

export async function pushBranchCreateOnly(input: PushBranchInput): Promise<PushOutcome> {
  const { gitdir, branch, commit, redactor } = input;
  const localRef = `refs/heads/${branch}`;
  let remoteTip: string | undefined;
  // What the server says on the sideband (`remote:` lines): GitHub and Gitea explain a declined push there.
  const remoteMessages: string[] = [];
  await git.writeRef({ fs, gitdir, ref: localRef, value: commit, force: true });
  try {
    await git.push({
      fs,
      http: input.http,
      gitdir,
      ...(input.cache === undefined ? {} : { cache: input.cache }),
      url: input.url,
      onAuth: input.onAuth,
      ref: localRef,
      remoteRef: localRef,
      force: false,
      onMessage: (message) => {
        if (remoteMessages.length < 50) remoteMessages.push(message);
      },
      onPrePush: async ({ remoteRef }) => {
        if (remoteRef.oid !== ZERO_OID) {
          remoteTip = remoteRef.oid;
          return false;
        }
        await input.beforeSend?.();
        return true;
      },
    });
    return 'pushed';
  } catch (error) {
    if (error instanceof Errors.UserCanceledError && remoteTip !== undefined) {
      if (remoteTip === commit) return 'already-on-remote';
      throw branchExists(branch, `its tip is ${remoteTip}`);
    }
    if (error instanceof Errors.GitPushError || error instanceof Errors.PushRejectedError) {
      // Rejected ref update: tell the race (branch appeared meanwhile) from other refusals.
      const tip = await readRemoteTip(input).catch(() => undefined);
      if (tip === commit) return 'already-on-remote';
      const reason = redactor.redactString(error.message.replace(/\s+/g, ' ').trim());
      if (tip !== undefined) throw branchExists(branch, `the server rejected the create: ${reason}`);
      if (DECLINED.test(reason)) throw branchProtected(branch, reason, remoteMessages, redactor);
      throw new AppError({ code: 'CLONE_FAILED', retryable: true, message: `git push failed: ${reason}` });
    }
    throw toGitTransferError('push', error, redactor);
  } finally {
    // The cache keeps no branches of its own: the next proposal starts from a clean ref space.
    await git.deleteRef({ fs, gitdir, ref: localRef }).catch(() => undefined);
    await git.deleteRef({ fs, gitdir, ref: `refs/remotes/origin/${branch}` }).catch(() => undefined);
  }
}

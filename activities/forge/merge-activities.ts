// Merge when green (docs/architecture.md "Merge when green"), the steps of mergeWhenGreenWorkflow:
// GitHub's auto-merge or merge queue, the read of the head's checks, the merge guarded by that
// head, and the record of where it stands. What the reads learn of the PR (merged, closed) is
// applied to the proposal by the same conditional update a webhook uses (db/pr-lifecycle.ts).
import {
  createGitHubMergeClient,
  type GitHubMergeClient,
  type MergeAttempt,
} from '../../adapters/github/merge-client.js';
import type { Database } from '../../db/database.js';
import { recordMergeState } from '../../db/merges.js';
import { findProposal } from '../../db/proposals.js';
import { applyReadBack } from '../../db/pr-lifecycle.js';
import type { MergeState } from '../../domain/merge-contracts.js';
import type { MergeMethod } from '../../domain/pr-options.js';
import { resolveRepoAccess } from '../repo-access.js';
import type { ConfigRepoRef } from '../types.js';
import { githubOptionsOf, type ForgeClientDeps } from './forge-client.js';

export interface MergeActivityDeps extends ForgeClientDeps {
  db: Database;
}

export function createMergeActivities(deps: MergeActivityDeps) {
  const clientFor = async (repo: ConfigRepoRef): Promise<GitHubMergeClient> =>
    createGitHubMergeClient(githubOptionsOf(await resolveRepoAccess(deps, repo), deps));

  return {
    async startGitHubMerge(input: { repo: ConfigRepoRef; prNumber: number; method: MergeMethod }) {
      return (await clientFor(input.repo)).startGitHubMerge({
        pullNumber: input.prNumber,
        base: input.repo.baseBranch,
        method: input.method,
      });
    },

    async stopGitHubMerge(input: { repo: ConfigRepoRef; prNumber: number; mode: 'auto_merge' | 'queued' }) {
      await (await clientFor(input.repo)).stopGitHubMerge({ pullNumber: input.prNumber, mode: input.mode });
    },

    /** The PR and its deciding checks; a merge or close it shows is recorded on the proposal. */
    async readMergeStatus(input: { repo: ConfigRepoRef; prNumber: number }) {
      const status = await (await clientFor(input.repo)).readMergeStatus({ pullNumber: input.prNumber });
      if (status.pull.state === 'closed') await applyReadBack(deps.db, input.repo.configRepoId, status.pull);
      return status;
    },

    /** Merges at `sha` only; once merged, the proposal becomes pr_merged like from the webhook. */
    async mergeAtHead(input: {
      repo: ConfigRepoRef;
      proposalId: string;
      prNumber: number;
      sha: string;
      method: MergeMethod;
    }): Promise<MergeAttempt> {
      // A rejection whose signal was lost still stops the merge.
      const row = await findProposal(deps.db, input.proposalId);
      if (row?.status !== 'pr_opened')
        return { outcome: 'refused', message: `the proposal is ${row?.status ?? 'gone'}; not merged` };
      const client = await clientFor(input.repo);
      const attempt = await client.mergeAt({ pullNumber: input.prNumber, sha: input.sha, method: input.method });
      if (attempt.outcome === 'merged') {
        const { pull } = await client.readMergeStatus({ pullNumber: input.prNumber });
        await applyReadBack(deps.db, input.repo.configRepoId, pull);
      }
      return attempt;
    },

    async recordMergeState(input: { proposalId: string; state: MergeState; note: string | null }) {
      await recordMergeState(deps.db, input);
    },
  };
}

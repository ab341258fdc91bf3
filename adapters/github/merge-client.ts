// Merge when green on GitHub (docs/architecture.md "Merge when green"): GitHub's own auto-merge or
// merge queue where the repository has them (GraphQL, through the same Octokit as REST: the same
// token, pacing of mutations, rate-limit handling and redaction), else what the service's own wait
// reads — the head commit's required checks (branch rules; check runs and commit statuses) — and
// the merge guarded by that head (`PUT …/merge` with `sha`, so a branch that moved is never merged).
//   https://docs.github.com/en/graphql/reference/mutations#enablepullrequestautomerge
//   https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch
//   https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
//   https://docs.github.com/en/rest/commits/statuses#get-the-combined-status-for-a-specific-reference
//   https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
import { GraphqlResponseError } from '@octokit/graphql';
import type { PullRequestState } from '../../domain/forge.js';
import type { MergeMethod } from '../../domain/pr-options.js';
import { AppError } from '../../domain/errors.js';
import { classifyGitHubFailure } from './errors.js';
import { toPullState, type CreateGitHubClientOptions } from './github-client.js';
import { createOctokit, type GitHubOctokit } from './octokit-client.js';

export interface CheckState {
  name: string;
  state: 'pending' | 'passed' | 'failed';
}

export interface MergeStatus {
  pull: Omit<PullRequestState, 'etag'>;
  /** The checks that decide: the required ones, or every reported one when the branch requires none. */
  checks: CheckState[];
  verdict: 'pending' | 'passed' | 'failed';
}

export type GitHubMergeMode =
  | { mode: 'auto_merge' | 'queued'; headSha: string }
  /** Neither is available (or GitHub can merge it right now): the service waits and merges itself. */
  | { mode: 'none'; reason: string };

export type MergeAttempt = { outcome: 'merged' } | { outcome: 'head_moved' } | { outcome: 'refused'; message: string };

export interface GitHubMergeClient {
  /** Auto-merge or the merge queue, where the repository and base branch have them. */
  startGitHubMerge(input: { pullNumber: number; base: string; method: MergeMethod }): Promise<GitHubMergeMode>;
  /** Undoes `startGitHubMerge` (a rejection, a timeout): auto-merge disabled, or the PR dequeued. */
  stopGitHubMerge(input: { pullNumber: number; mode: 'auto_merge' | 'queued' }): Promise<void>;
  readMergeStatus(input: { pullNumber: number }): Promise<MergeStatus>;
  mergeAt(input: { pullNumber: number; sha: string; method: MergeMethod }): Promise<MergeAttempt>;
}

const MODE_QUERY = `query MergeMode($owner: String!, $name: String!, $number: Int!, $base: String!) {
  repository(owner: $owner, name: $name) {
    autoMergeAllowed
    mergeQueue(branch: $base) { id }
    pullRequest(number: $number) { id headRefOid state autoMergeRequest { enabledAt } isInMergeQueue }
  }
}`;

const ENABLE_AUTO_MERGE = `mutation EnableAutoMerge($id: ID!, $mergeMethod: PullRequestMergeMethod!, $head: GitObjectID!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $mergeMethod, expectedHeadOid: $head }) {
    pullRequest { autoMergeRequest { enabledAt } }
  }
}`;

const ENQUEUE = `mutation Enqueue($id: ID!, $head: GitObjectID!) {
  enqueuePullRequest(input: { pullRequestId: $id, expectedHeadOid: $head }) {
    mergeQueueEntry { id position }
  }
}`;

const PULL_ID = `query PullId($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { id } }
}`;

const DISABLE_AUTO_MERGE = `mutation DisableAutoMerge($id: ID!) {
  disablePullRequestAutoMerge(input: { pullRequestId: $id }) { pullRequest { number } }
}`;

const DEQUEUE = `mutation Dequeue($id: ID!) {
  dequeuePullRequest(input: { id: $id }) { mergeQueueEntry { id } }
}`;

/** Every GraphQL document this client sends (the sandbox validates each against GitHub's schema; so does a unit test). */
export const MERGE_GRAPHQL_DOCUMENTS = [MODE_QUERY, ENABLE_AUTO_MERGE, ENQUEUE, PULL_ID, DISABLE_AUTO_MERGE, DEQUEUE];

interface ModeAnswer {
  repository: {
    autoMergeAllowed: boolean;
    mergeQueue: { id: string } | null;
    pullRequest: {
      id: string;
      headRefOid: string;
      state: 'OPEN' | 'CLOSED' | 'MERGED';
      autoMergeRequest: { enabledAt: string } | null;
      isInMergeQueue: boolean;
    };
  };
}

const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

export function createGitHubMergeClient(opts: CreateGitHubClientOptions): GitHubMergeClient {
  const octokit: GitHubOctokit = createOctokit({
    apiBaseUrl: opts.apiBaseUrl,
    token: opts.token,
    limiter: opts.limiter,
    pacer: opts.pacer,
  });
  const repo = { owner: opts.owner, repo: opts.repo };
  const classify = (error: unknown, operation: string): AppError =>
    classifyGitHubFailure(error, `${operation} (${opts.owner}/${opts.repo})`, opts.redactor, (opts.now ?? Date.now)());
  /** GitHub's answer to a GraphQL document, or its refusal (200 with `errors`) as a message. */
  const graphql = async <T>(operation: string, query: string, variables: Record<string, unknown>) => {
    try {
      return { data: await octokit.graphql<T>(query, variables) };
    } catch (error) {
      if (error instanceof GraphqlResponseError)
        return { refused: opts.redactor.redactString(error.errors?.map((e) => e.message).join('; ') ?? error.message) };
      throw classify(error, operation);
    }
  };

  return {
    async startGitHubMerge({ pullNumber, base, method }) {
      const read = await graphql<ModeAnswer>('read merge settings', MODE_QUERY, {
        owner: opts.owner,
        name: opts.repo,
        number: pullNumber,
        base,
      });
      if ('refused' in read)
        return { mode: 'none', reason: `GitHub did not answer the merge settings: ${read.refused}` };
      const { autoMergeAllowed, mergeQueue, pullRequest: pr } = read.data.repository;
      // A retried attempt finds its own earlier mutation done.
      if (pr.isInMergeQueue) return { mode: 'queued', headSha: pr.headRefOid };
      if (pr.autoMergeRequest !== null) return { mode: 'auto_merge', headSha: pr.headRefOid };
      if (mergeQueue !== null) {
        const done = await graphql('enqueue pull request', ENQUEUE, { id: pr.id, head: pr.headRefOid });
        return 'refused' in done
          ? { mode: 'none', reason: `GitHub refused the merge queue: ${done.refused}` }
          : { mode: 'queued', headSha: pr.headRefOid };
      }
      if (!autoMergeAllowed) return { mode: 'none', reason: 'the repository does not allow auto-merge' };
      const done = await graphql('enable auto-merge', ENABLE_AUTO_MERGE, {
        id: pr.id,
        mergeMethod: method.toUpperCase(),
        head: pr.headRefOid,
      });
      // "clean status": GitHub can merge it right now, which the service's own wait then does.
      return 'refused' in done
        ? { mode: 'none', reason: `GitHub refused auto-merge: ${done.refused}` }
        : { mode: 'auto_merge', headSha: pr.headRefOid };
    },

    async stopGitHubMerge({ pullNumber, mode }) {
      const read = await graphql<{ repository: { pullRequest: { id: string } } }>('read pull request id', PULL_ID, {
        owner: opts.owner,
        name: opts.repo,
        number: pullNumber,
      });
      if ('refused' in read) return;
      const id = read.data.repository.pullRequest.id;
      // Refused when it is no longer enabled or queued: nothing left to undo.
      await graphql(
        mode === 'queued' ? 'dequeue pull request' : 'disable auto-merge',
        mode === 'queued' ? DEQUEUE : DISABLE_AUTO_MERGE,
        { id },
      );
    },

    async readMergeStatus({ pullNumber }) {
      const call = async <T>(operation: string, fn: () => Promise<{ data: T }>): Promise<T> => {
        try {
          return (await fn()).data;
        } catch (error) {
          throw classify(error, operation);
        }
      };
      const pr = await call('get pull request', () => octokit.rest.pulls.get({ ...repo, pull_number: pullNumber }));
      const pull = toPullState(pr);
      if (pull.state === 'closed') return { pull, checks: [], verdict: 'pending' };
      const sha = pr.head.sha;
      const [rules, runs, combined] = await Promise.all([
        call('get branch rules', () =>
          octokit.rest.repos.getBranchRules({ ...repo, branch: pr.base.ref, per_page: 100 }),
        ),
        call('list check runs', () =>
          octokit.rest.checks.listForRef({ ...repo, ref: sha, per_page: 100, filter: 'latest' }),
        ),
        call('get combined status', () =>
          octokit.rest.repos.getCombinedStatusForRef({ ...repo, ref: sha, per_page: 100 }),
        ),
      ]);
      const reported = new Map<string, CheckState['state']>();
      for (const s of combined.statuses)
        reported.set(s.context, s.state === 'success' ? 'passed' : s.state === 'pending' ? 'pending' : 'failed');
      for (const run of runs.check_runs)
        reported.set(
          run.name,
          run.status !== 'completed' ? 'pending' : PASSING_CONCLUSIONS.has(run.conclusion ?? '') ? 'passed' : 'failed',
        );
      const required = rules.flatMap((rule) =>
        rule.type === 'required_status_checks'
          ? (rule.parameters?.required_status_checks ?? []).map((c: { context: string }) => c.context)
          : [],
      );
      // With no required checks, every check reported on the head decides, and one must have been.
      const checks: CheckState[] =
        required.length > 0
          ? [...new Set(required)].map((name) => ({ name, state: reported.get(name) ?? 'pending' }))
          : [...reported].map(([name, state]) => ({ name, state }));
      const verdict = checks.some((c) => c.state === 'failed')
        ? 'failed'
        : checks.length > 0 && checks.every((c) => c.state === 'passed')
          ? 'passed'
          : 'pending';
      return { pull, checks, verdict };
    },

    async mergeAt({ pullNumber, sha, method }) {
      try {
        await octokit.rest.pulls.merge({ ...repo, pull_number: pullNumber, sha, merge_method: method });
        return { outcome: 'merged' };
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        // 409 "Head branch was modified": the sha guard refused a head that moved.
        if (status === 409 && /head/i.test(String((error as Error).message))) return { outcome: 'head_moved' };
        if (status === 409)
          throw new AppError({
            code: 'GITHUB_API_FAILED',
            message: opts.redactor.redactString(`GitHub merge pull request: 409 ${String((error as Error).message)}`),
            retryable: true,
            upstreamStatus: 409,
            operation: 'merge pull request',
          });
        const failure = classify(error, 'merge pull request');
        if (failure.retryable) throw failure;
        return { outcome: 'refused', message: failure.message };
      }
    },
  };
}

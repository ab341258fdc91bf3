// GitHub steps of openPrWorkflow (SPEC §5 steps 12–13 and the reject-race compensation). Titles,
// bodies and comments are rendered here from the proposal (SPEC §8) and redacted by the client
// before they are sent. A client per call: the token is read fresh from its secret file, so a
// rotated token takes effect on the next attempt.
import { createChartComment, chartCommentMarker } from '../../domain/chart-comment.js';
import type { GitHubPacer } from '../../domain/github-pacing.js';
import { createPrBody, createPrTitle } from '../../domain/pr-body.js';
import { studySummaryOf } from '../../domain/step-inputs.js';
import { resolveRepoAccess, type RepoAccessDeps } from '../repo-access.js';
import type { CommentChartInput, ConfigRepoRef, LegacyProposalInput, OpenPullRequestInput, SharedActivities } from '../types.js';
import { createGitHubClient, type GitHubClient } from './github-client.js';
import type { GitHubLimiterOptions } from './octokit-client.js';

export interface GitHubActivityDeps extends RepoAccessDeps {
  relyloopBaseUrl: string | undefined;
  /** Tests shorten GitHub's write spacing; production leaves it unset (SPEC §9). */
  limiter?: GitHubLimiterOptions;
  /** One pacer for every client of this process, so a token's writes are paced across steps and runs. */
  pacer: GitHubPacer;
}

type GitHubActivities = Pick<SharedActivities, 'openPullRequest' | 'commentChart' | 'closePullRequest' | 'deleteBranch'>;

export function createGitHubActivities(deps: GitHubActivityDeps): GitHubActivities {
  const client = async (repo: ConfigRepoRef): Promise<{ gh: GitHubClient; webUrl: string }> => {
    const { ref, token } = await resolveRepoAccess(deps, repo);
    const gh = createGitHubClient({
      apiBaseUrl: ref.apiBaseUrl, token, owner: ref.owner, repo: ref.repo, redactor: deps.redactor,
      ...(deps.limiter ? { limiter: deps.limiter } : {}),
      pacer: deps.pacer,
    });
    return { gh, webUrl: ref.webUrl };
  };

  return {
    async openPullRequest(input: OpenPullRequestInput | LegacyProposalInput<Omit<OpenPullRequestInput, 'repo' | 'proposalId' | 'study'>>) {
      const { repo, proposalId, study, branch, changes, chartRendered } = 'proposal' in input
        ? { ...input, repo: input.proposal.repo, proposalId: input.proposal.proposalId, study: studySummaryOf(input.proposal.study, input.proposal.metricDelta) }
        : input;
      const { gh } = await client(repo);
      const pr = await gh.createOrAdoptPullRequest({
        head: branch,
        base: repo.baseBranch,
        title: createPrTitle({ proposalId, studyName: study?.name ?? null }),
        body: createPrBody({ proposalId, study, changes, chartRendered, relyloopBaseUrl: deps.relyloopBaseUrl }),
        draft: repo.prOptions?.draft === true,
      });
      // Labels, review requests, assignees (issue 14): a refusal is a warning on the run, never fatal.
      const warnings = repo.prOptions === undefined ? [] : await gh.applyPrOptions(pr.number, repo.prOptions);
      return { number: pr.number, url: pr.url, adopted: pr.adopted, ...(warnings.length > 0 ? { warnings } : {}) };
    },

    async commentChart(input: CommentChartInput | LegacyProposalInput<Omit<CommentChartInput, 'repo' | 'proposalId' | 'studyId'>>) {
      if ('proposal' in input && !input.proposal.study) return { posted: false };
      const { repo, proposalId, studyId, prNumber, branch } = 'proposal' in input
        ? { ...input, repo: input.proposal.repo, proposalId: input.proposal.proposalId, studyId: input.proposal.study?.id as string }
        : input;
      const { gh, webUrl } = await client(repo);
      const { created } = await gh.createCommentOnce({
        issueNumber: prNumber,
        body: createChartComment({ webUrl, branch, studyId, proposalId }),
        marker: chartCommentMarker(proposalId),
      });
      return { posted: created };
    },

    async closePullRequest({ repo, number }) {
      await (await client(repo)).gh.closePullRequest(number);
    },

    async deleteBranch({ repo, branch }) {
      await (await client(repo)).gh.deleteBranch(branch);
    },
  };
}

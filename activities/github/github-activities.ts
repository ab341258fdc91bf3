// GitHub steps of openPrWorkflow (SPEC §5 steps 12–13 and the reject-race compensation). Titles,
// bodies and comments are rendered here from the proposal (SPEC §8) and redacted by the client
// before they are sent. A client per call: the token is read fresh from its secret file, so a
// rotated token takes effect on the next attempt.
import { createChartComment, chartCommentMarker } from '../../domain/chart-comment.js';
import type { ParamChange } from '../../domain/params-diff.js';
import { createPrBody, createPrTitle } from '../../domain/pr-body.js';
import { resolveRepoAccess, type RepoAccessDeps } from '../repo-access.js';
import type { ConfigRepoRef, ProposalContext, SharedActivities } from '../types.js';
import { createGitHubClient, type GitHubClient } from './github-client.js';
import type { GitHubLimiterOptions } from './octokit-client.js';

export interface GitHubActivityDeps extends RepoAccessDeps {
  relyloopBaseUrl: string | undefined;
  /** Tests shorten GitHub's write spacing; production leaves it unset (SPEC §9). */
  limiter?: GitHubLimiterOptions;
}

type GitHubActivities = Pick<SharedActivities, 'openPullRequest' | 'commentChart' | 'closePullRequest' | 'deleteBranch'>;

export function createGitHubActivities(deps: GitHubActivityDeps): GitHubActivities {
  const client = async (repo: ConfigRepoRef): Promise<{ gh: GitHubClient; webUrl: string }> => {
    const { ref, token } = await resolveRepoAccess(deps, repo);
    const gh = createGitHubClient({
      apiBaseUrl: ref.apiBaseUrl, token, owner: ref.owner, repo: ref.repo, redactor: deps.redactor,
      ...(deps.limiter ? { limiter: deps.limiter } : {}),
    });
    return { gh, webUrl: ref.webUrl };
  };

  return {
    async openPullRequest({ proposal, branch, changes, chartRendered }: { proposal: ProposalContext; branch: string; changes: ParamChange[]; chartRendered: boolean }) {
      const { gh } = await client(proposal.repo);
      const s = proposal.study;
      const pr = await gh.createOrAdoptPullRequest({
        head: branch,
        base: proposal.repo.baseBranch,
        title: createPrTitle({ proposalId: proposal.proposalId, studyName: s?.name ?? null }),
        body: createPrBody({
          proposalId: proposal.proposalId,
          study: s && {
            id: s.id, name: s.name, metricDelta: proposal.metricDelta, suggestedFollowups: s.suggestedFollowups, importance: s.parameterImportance,
          },
          changes,
          chartRendered,
          relyloopBaseUrl: deps.relyloopBaseUrl,
        }),
      });
      return { number: pr.number, url: pr.url, adopted: pr.adopted };
    },

    async commentChart({ proposal, prNumber, branch }) {
      if (!proposal.study) return { posted: false };
      const { gh, webUrl } = await client(proposal.repo);
      const { created } = await gh.createCommentOnce({
        issueNumber: prNumber,
        body: createChartComment({ webUrl, branch, studyId: proposal.study.id, proposalId: proposal.proposalId }),
        marker: chartCommentMarker(proposal.proposalId),
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

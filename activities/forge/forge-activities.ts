// Forge steps of openPrWorkflow (SPEC §5 steps 12–13 and the reject-race compensation), on the
// repo's forge — GitHub or Gitea/Forgejo (forge-client.ts). Titles, bodies and comments are
// rendered here from the proposal (SPEC §8) and redacted by the client before they are sent.
import { createChartComment, chartCommentMarker } from '../../domain/chart-comment.js';
import { createPrBody, createPrTitle } from '../../domain/pr-body.js';
import { studySummaryOf } from '../../domain/step-inputs.js';
import { forgeClientFor, type ForgeClientDeps } from './forge-client.js';
import type { ForgePullRequests } from '../../domain/forge.js';
import type { CommentChartInput, ConfigRepoRef, LegacyProposalInput, OpenPullRequestInput, SharedActivities } from '../types.js';

export interface ForgeActivityDeps extends ForgeClientDeps {
  relyloopBaseUrl: string | undefined;
}

type GitHubActivities = Pick<SharedActivities, 'openPullRequest' | 'commentChart' | 'closePullRequest' | 'deleteBranch'>;

export function createForgeActivities(deps: ForgeActivityDeps): GitHubActivities {
  const client = async (repo: ConfigRepoRef): Promise<{ gh: ForgePullRequests; webUrl: string }> => {
    const { pulls, access } = await forgeClientFor(deps, repo);
    return { gh: pulls, webUrl: access.ref.webUrl };
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

// Forge steps of openPrWorkflow (docs/architecture.md "The open-PR workflow" steps 12–13 and the
// reject-race compensation), on the repo's forge — GitHub or Gitea/Forgejo (forge-client.ts).
// Titles, bodies and comments are rendered here from the proposal (docs/architecture.md "PR body")
// and redacted by the client before they are sent.
import { createChartComment, chartCommentMarker } from '../../domain/chart-comment.js';
import { createPrBody, createPrTitle } from '../../domain/pr-body.js';
import { tryCurrentContext } from '../../runtime/activity-context.js';
import { forgeClientFor, type ForgeClientDeps } from './forge-client.js';
import type { ForgePullRequests } from '../../domain/forge.js';
import type { CommentChartInput, ConfigRepoRef, OpenPullRequestInput, SharedActivities } from '../types.js';

export interface ForgeActivityDeps extends ForgeClientDeps {
  relyloopBaseUrl: string | undefined;
}

type GitHubActivities = Pick<
  SharedActivities,
  'openPullRequest' | 'commentChart' | 'closePullRequest' | 'deleteBranch'
>;

export function createForgeActivities(deps: ForgeActivityDeps): GitHubActivities {
  const client = async (repo: ConfigRepoRef): Promise<{ gh: ForgePullRequests; webUrl: string }> => {
    const { pulls, access } = await forgeClientFor(deps, repo);
    return { gh: pulls, webUrl: access.ref.webUrl };
  };

  return {
    async openPullRequest({ repo, proposalId, study, branch, changes, chartRendered }: OpenPullRequestInput) {
      const { gh } = await client(repo);
      const pr = await gh.createOrAdoptPullRequest({
        head: branch,
        base: repo.baseBranch,
        title: createPrTitle({ proposalId, studyName: study?.name ?? null }),
        body: createPrBody({ proposalId, study, changes, chartRendered, relyloopBaseUrl: deps.relyloopBaseUrl }),
        draft: repo.prOptions.draft,
      });
      // Labels, review requests, assignees: a refusal is a warning on the run, never fatal.
      const warnings = await gh.applyPrOptions(pr.number, repo.prOptions);
      const createdInRun = pr.adopted ? undefined : tryCurrentContext()?.info.workflowExecution?.runId;
      return {
        number: pr.number,
        url: pr.url,
        adopted: pr.adopted,
        ...(createdInRun !== undefined ? { createdInRun } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    },

    async commentChart({ repo, proposalId, studyId, prNumber, branch, prCreatedInRun }: CommentChartInput) {
      const { gh, webUrl } = await client(repo);
      // Only this step posts the chart comment, once per run. On the first attempt in the run that
      // created the PR, nothing of ours can be on it. A retried attempt (an earlier one may have
      // posted and lost the answer), a PR adopted from an earlier run, and a run reset from another
      // (a new run id) all look first.
      const info = tryCurrentContext()?.info;
      const unseen =
        prCreatedInRun !== undefined && info?.attempt === 1 && info.workflowExecution?.runId === prCreatedInRun;
      const { created } = await gh.createCommentOnce({
        issueNumber: prNumber,
        body: createChartComment({ webUrl, branch, studyId, proposalId }),
        marker: chartCommentMarker(proposalId),
        unseen,
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

// The preview's forge side (docs/api.md "Preview"): the PR's title and body exactly as the forge
// would be sent them, the unified diff of the params file, the warnings the repo's PR options
// would leave on the run, and the older PRs supersede would close — by reads only: no request here
// writes to the forge, and nothing is written to the database.
import type { Database } from '../../db/database.js';
import { listSupersedeCandidates } from '../../db/supersede.js';
import { createPrBody, createPrTitle } from '../../domain/pr-body.js';
import type { PreviewPullRequest } from '../../domain/preview-contracts.js';
import { unifiedDiff } from '../../domain/unified-diff.js';
import type { PreviewPullRequestInput } from '../types.js';
import { forgeClientFor } from './forge-client.js';
import type { ForgeActivityDeps } from './forge-activities.js';

export interface PreviewActivityDeps extends ForgeActivityDeps {
  db: Database;
}

export function createPreviewActivities(deps: PreviewActivityDeps) {
  return {
    async previewPullRequest(input: PreviewPullRequestInput): Promise<PreviewPullRequest> {
      const { repo, proposalId, study, changes, chartRendered } = input;
      const { pulls } = await forgeClientFor(deps, repo);
      const { title, body } = pulls.pullRequestText({
        title: createPrTitle({ proposalId, studyName: study?.name ?? null }),
        body: createPrBody({ proposalId, study, changes, chartRendered, relyloopBaseUrl: deps.relyloopBaseUrl }),
        draft: repo.prOptions.draft,
      });
      const supersedes =
        repo.prOptions.supersede === true
          ? (
              await listSupersedeCandidates(deps.db, {
                proposalId,
                clusterId: input.clusterId,
                paramsPath: input.paramsPath,
              })
            ).map((c) => ({ proposalId: c.proposalId, prNumber: c.prNumber }))
          : [];
      return {
        title,
        body,
        diff: unifiedDiff(input.paramsPath, input.before, input.after),
        warnings: await pulls.checkPrOptions(repo.prOptions),
        supersedes,
      };
    },
  };
}

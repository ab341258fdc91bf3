// POST/GET /proposals/{id}/open_pr (docs/api.md). POST pre-flights in the documented order, then
// starts `openPrWorkflow` (start-workflow.ts): calls during a run attach to it and return the same
// body; a call after a failed run gets a new, salted workflow id.
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ConfigRepo } from '../../db/config-repos.js';
import { findProposal, findProposalWithRepo } from '../../db/proposals.js';
import { AppError, type EndpointErrorCode } from '../../domain/errors.js';
import { OPEN_PR_WORKFLOW, type OpenPrInput } from '../../domain/open-pr-contracts.js';
import { mergeWorkflowId, type MergeState } from '../../domain/merge-contracts.js';
import { SEARCH_ATTRIBUTES } from '../../domain/temporal-contracts.js';
import { openPrWorkflowId } from '../../domain/workflow-ids.js';
import { checkSecretFile } from '../../adapters/secrets.js';
import { isTemporalUnavailable } from '../../adapters/temporal-client.js';
import { describeLatestOpenPrRun } from '../open-pr-status.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams } from '../schemas/common.js';
import { openPrAccepted, openPrRun } from '../schemas/open-pr.js';
import type { RouteContext } from './context.js';
import { queueUnavailable, startOrAttach } from './start-workflow.js';

export const OPEN_PR_MESSAGE =
  'Opening the pull request; follow it with GET /api/v1/proposals/{id}/open_pr or in the Temporal Web UI.';

/** 503 GITHUB_NOT_CONFIGURED unless the repo's token file, or its App's private key, is usable. */
async function assertCredentialUsable(ctx: RouteContext, repo: ConfigRepo): Promise<void> {
  const app = repo.appId !== null && repo.appPrivateKeyRef !== null;
  const [ref, what] = app
    ? [repo.appPrivateKeyRef as string, 'the GitHub App private key file']
    : [repo.authRef ?? '', 'the token file for auth_ref'];
  const secret = await checkSecretFile(ctx.config.secretsDir, ref);
  if (secret.status !== 'ok' || secret.file === undefined) {
    throw new AppError({
      code: 'GITHUB_NOT_CONFIGURED',
      message: `${what} "${ref}" is ${secret.status === 'ok' ? 'missing' : secret.status.replaceAll('_', ' ')}`,
    });
  }
  if (!app) return;
  try {
    createPrivateKey(await readFile(secret.file, 'utf8'));
  } catch {
    throw new AppError({ code: 'GITHUB_NOT_CONFIGURED', message: `${what} "${ref}" does not hold a PEM private key` });
  }
}

/** What the pre-flight answers, and a Temporal that cannot be reached. */
export const PREFLIGHT_ERRORS: EndpointErrorCode[] = [
  'PROPOSAL_NOT_FOUND',
  'INVALID_STATE_TRANSITION',
  'CLUSTER_HAS_NO_CONFIG_REPO',
  'GITHUB_NOT_CONFIGURED',
  'QUEUE_UNAVAILABLE',
];

/**
 * The checks before a run (or its preview), in the documented order: 404 PROPOSAL_NOT_FOUND, 409
 * INVALID_STATE_TRANSITION (not pending), 422 CLUSTER_HAS_NO_CONFIG_REPO, 503 GITHUB_NOT_CONFIGURED.
 */
export async function preflight(ctx: RouteContext, id: string, purpose: string) {
  const proposal = await findProposalWithRepo(ctx.db, id);
  if (!proposal) throw new AppError({ code: 'PROPOSAL_NOT_FOUND', message: `proposal ${id} not found` });
  if (proposal.status !== 'pending') {
    throw new AppError({
      code: 'INVALID_STATE_TRANSITION',
      message: `proposal is ${proposal.status}; only a pending proposal can be ${purpose}`,
    });
  }
  const repo = proposal.cluster.configRepo;
  if (!repo || !proposal.cluster.configPath) {
    throw new AppError({
      code: 'CLUSTER_HAS_NO_CONFIG_REPO',
      message: `cluster ${proposal.cluster.name} has no config repo and config_path`,
    });
  }
  await assertCredentialUsable(ctx, repo);
  return { proposal, repo };
}

export function openPrRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'proposals';
  return [
    defineRoute({
      method: 'post',
      path: '/proposals/:id/open_pr',
      tag,
      summary: 'Open a pull request for a pending proposal (starts or attaches to its workflow)',
      params: idParams,
      success: { status: 202, description: 'Workflow started (or already running)', schema: openPrAccepted },
      errors: PREFLIGHT_ERRORS,
      async handler({ params }) {
        const { proposal, repo } = await preflight(ctx, params.id, 'opened as a PR');
        const workflowId = openPrWorkflowId(proposal.id, proposal.prOpenError);
        const input: OpenPrInput = { proposalId: proposal.id };
        const runId = await startOrAttach(ctx, OPEN_PR_WORKFLOW, {
          workflowId,
          args: [input],
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.proposalId, value: proposal.id },
            { key: SEARCH_ATTRIBUTES.configRepoId, value: repo.id },
            { key: SEARCH_ATTRIBUTES.clusterId, value: proposal.clusterId },
          ],
          staticSummary: `Open PR for proposal ${proposal.id} on ${repo.name}`,
          staticDetails: `Config repo **${repo.name}** (${repo.repoUrl}), base \`${repo.prBaseBranch}\`, cluster ${proposal.cluster.name}.`,
        });
        return {
          proposal_id: proposal.id,
          status: 'pending' as const,
          workflow_id: workflowId,
          run_id: runId,
          message: OPEN_PR_MESSAGE,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/proposals/:id/open_pr',
      tag,
      summary: 'The latest open-PR run of a proposal: status, current step, per-step attempts and failures',
      params: idParams,
      success: { status: 200, description: 'The latest run', schema: openPrRun },
      errors: ['PROPOSAL_NOT_FOUND', 'QUEUE_UNAVAILABLE'],
      async handler({ params }) {
        const row = await findProposal(ctx.db, params.id);
        if (row === undefined)
          throw new AppError({ code: 'PROPOSAL_NOT_FOUND', message: `proposal ${params.id} not found` });
        let view;
        try {
          view = await describeLatestOpenPrRun(ctx.temporal, params.id, ctx.config.temporalUiUrl);
        } catch (error) {
          if (isTemporalUnavailable(error)) throw queueUnavailable(error);
          throw error;
        }
        if (!view)
          throw new AppError({ code: 'PROPOSAL_NOT_FOUND', message: `proposal ${params.id} has no open-PR run yet` });
        // Merge when green runs after this run, in its own workflow: where it stands, from the row.
        const merge =
          row.mergeState === null
            ? null
            : { state: row.mergeState as MergeState, note: row.mergeNote, workflow_id: mergeWorkflowId(row.id) };
        return { ...view, merge };
      },
    }),
  ];
}

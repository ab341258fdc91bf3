// GET /proposals/{id}/preview (docs/api.md "Preview"): what open_pr would send and meet, without
// writing anything anywhere. A GET: it changes nothing, so repeating it is safe. The same
// pre-flight as open_pr, then a short workflow on a worker (the repo cache lives there), which the
// request waits for.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { isTemporalUnavailable } from '../../adapters/temporal-client.js';
import { AppError } from '../../domain/errors.js';
import {
  PREVIEW_WORKFLOW,
  previewWorkflowIdPrefix,
  type PreviewInput,
  type PreviewResult,
} from '../../domain/preview-contracts.js';
import { SEARCH_ATTRIBUTES } from '../../domain/temporal-contracts.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams } from '../schemas/common.js';
import { previewJson, toPreviewJson } from '../schemas/preview.js';
import type { RouteContext } from './context.js';
import { PREFLIGHT_ERRORS, preflight } from './open-pr.js';
import { queueUnavailable } from './start-workflow.js';

/** How long the request waits for the preview; the run itself is cut off a little later. */
const PREVIEW_WAIT_MS = 60_000;
const PREVIEW_RUN_TIMEOUT_MS = 90_000;

export function previewRoutes(ctx: RouteContext): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/proposals/:id/preview',
      tag: 'proposals',
      summary: "What open_pr would send and meet: branch, title, body, the params file's diff, the chart, warnings",
      description:
        'Writes nothing anywhere (no branch, PR, comment, row or lock): the read-only steps of the open-PR workflow run on a worker, and the failure the run would hit is returned in `would_fail`.',
      params: idParams,
      success: { status: 200, description: 'The preview', schema: previewJson },
      errors: PREFLIGHT_ERRORS,
      async handler({ params }) {
        const { proposal, repo } = await preflight(ctx, params.id, 'previewed');
        const workflowId = `${previewWorkflowIdPrefix(proposal.id)}${randomUUID().slice(0, 8)}`;
        const input: PreviewInput = { proposalId: proposal.id };
        let result: PreviewResult | { notPending: string };
        try {
          const handle = await ctx.temporal.connection.withDeadline(Date.now() + 5_000, () =>
            ctx.temporal.client.workflow.start(PREVIEW_WORKFLOW, {
              workflowId,
              args: [input],
              taskQueue: ctx.config.temporalTaskQueue,
              workflowExecutionTimeout: PREVIEW_RUN_TIMEOUT_MS,
              typedSearchAttributes: [
                { key: SEARCH_ATTRIBUTES.proposalId, value: proposal.id },
                { key: SEARCH_ATTRIBUTES.configRepoId, value: repo.id },
                { key: SEARCH_ATTRIBUTES.clusterId, value: proposal.clusterId },
              ],
              staticSummary: `Preview of the PR for proposal ${proposal.id} on ${repo.name}`,
            }),
          );
          result = await ctx.temporal.connection.withDeadline(Date.now() + PREVIEW_WAIT_MS, () => handle.result());
        } catch (error) {
          if (isTemporalUnavailable(error)) throw queueUnavailable(error);
          if (error instanceof WorkflowFailedError)
            throw new AppError({
              code: 'QUEUE_UNAVAILABLE',
              message: `the preview did not complete (${error.cause?.message ?? error.message}); try again`,
              cause: error,
            });
          throw error;
        }
        if ('notPending' in result)
          throw new AppError({
            code: 'INVALID_STATE_TRANSITION',
            message: `proposal is ${result.notPending}; only a pending proposal can be previewed`,
          });
        return toPreviewJson(result, workflowId);
      },
    }),
  ];
}

// /proposals (docs/api.md) except open_pr: create (manual or study-backed), list with status and
// cluster filters, get, and reject (only from pending, decided by a conditional UPDATE).
import { AppError } from '../../domain/errors.js';
import { findStudy } from '../../db/studies.js';
import { findProposal, insertProposal, listProposals, rejectProposal } from '../../db/proposals.js';
import { createMetricDelta } from '../../domain/metric-delta.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams, pageOf } from '../schemas/common.js';
import {
  createProposalBody,
  listProposalsQuery,
  proposalJson,
  rejectProposalBody,
  toProposalJson,
} from '../schemas/proposals.js';
import { validationError } from '../validation.js';
import { toListResult, type RouteContext } from './context.js';
import { assertClusterAndTemplate } from './lookups.js';
import { signalMergeRejected, signalRunRejected } from './start-workflow.js';

const notFound = (id: string) => new AppError({ code: 'PROPOSAL_NOT_FOUND', message: `proposal ${id} not found` });

export function proposalRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'proposals';
  return [
    defineRoute({
      method: 'post',
      path: '/proposals',
      tag,
      summary: 'Create a proposal (manual, or backed by a study)',
      body: createProposalBody,
      success: { status: 201, description: 'Created (status pending)', schema: proposalJson },
      errors: ['CLUSTER_NOT_FOUND', 'TEMPLATE_NOT_FOUND', 'STUDY_NOT_FOUND'],
      async handler({ body }) {
        await assertClusterAndTemplate(ctx.db, body.cluster_id, body.template_id);
        let metricDelta = null;
        if (body.study_id !== null) {
          const study = await findStudy(ctx.db, body.study_id);
          if (study === undefined)
            throw new AppError({ code: 'STUDY_NOT_FOUND', message: `study ${body.study_id} not found` });
          if (study.clusterId !== body.cluster_id || study.templateId !== body.template_id) {
            throw validationError('study_id', `study ${body.study_id} was run on another cluster or template`);
          }
          metricDelta = createMetricDelta(study);
        }
        const row = await insertProposal(ctx.db, {
          clusterId: body.cluster_id,
          templateId: body.template_id,
          studyId: body.study_id,
          configDiff: body.config_diff,
          metricDelta,
        });
        return toProposalJson(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/proposals',
      tag,
      summary: 'List proposals, newest first, by status, PR state, cluster and recorded failure',
      query: listProposalsQuery,
      success: { status: 200, description: 'A page of proposals', schema: pageOf(proposalJson), list: true },
      errors: [],
      async handler({ query }) {
        const after = ctx.cursors.assertDecoded('proposals', query.cursor);
        const page = await listProposals(ctx.db, {
          after,
          limit: query.limit ?? 50,
          status: query.status,
          clusterId: query.cluster_id,
          prState: query.pr_state,
          hasError: query.has_error === undefined ? undefined : query.has_error === 'true',
          errorCode: query.error_code,
        });
        return toListResult(ctx, 'proposals', page, toProposalJson);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/proposals/:id',
      tag,
      summary: 'Get a proposal',
      params: idParams,
      success: { status: 200, description: 'The proposal', schema: proposalJson },
      errors: ['PROPOSAL_NOT_FOUND'],
      async handler({ params }) {
        const row = await findProposal(ctx.db, params.id);
        if (row === undefined) throw notFound(params.id);
        return toProposalJson(row);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/proposals/:id/reject',
      tag,
      summary: 'Reject a pending proposal',
      params: idParams,
      body: rejectProposalBody,
      bodyOptional: true,
      success: { status: 200, description: 'The rejected proposal', schema: proposalJson },
      errors: ['PROPOSAL_NOT_FOUND', 'INVALID_STATE_TRANSITION'],
      async handler({ params, body }) {
        const outcome = await rejectProposal(ctx.db, params.id, body?.reason ?? null);
        if (outcome === 'not_found') throw notFound(params.id);
        if (outcome === 'not_pending') {
          throw new AppError({
            code: 'INVALID_STATE_TRANSITION',
            message: `proposal ${params.id} is not pending; only a pending proposal, or one whose PR waits to be merged when green, can be rejected`,
          });
        }
        if (outcome.previous === 'pr_opened') await signalMergeRejected(ctx, outcome.row.id, body?.reason ?? null);
        else await signalRunRejected(ctx, outcome.row.id, outcome.row.prOpenError);
        return toProposalJson(outcome.row);
      },
    }),
  ];
}

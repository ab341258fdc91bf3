// /studies (docs/api.md): create, list (optionally by cluster), get.
import { AppError } from '../../domain/errors.js';
import { findStudy, insertStudy, listStudies } from '../../db/studies.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams, pageOf } from '../schemas/common.js';
import { createStudyBody, listStudiesQuery, studyJson, toStudyJson } from '../schemas/studies.js';
import { toListResult, type RouteContext } from './context.js';
import { assertClusterAndTemplate } from './lookups.js';

export function studyRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'studies';
  return [
    defineRoute({
      method: 'post',
      path: '/studies',
      tag,
      summary: 'Record a study',
      body: createStudyBody,
      success: { status: 201, description: 'Created', schema: studyJson },
      errors: ['CLUSTER_NOT_FOUND', 'TEMPLATE_NOT_FOUND'],
      async handler({ body }) {
        await assertClusterAndTemplate(ctx.db, body.cluster_id, body.template_id);
        const row = await insertStudy(ctx.db, {
          name: body.name,
          clusterId: body.cluster_id,
          templateId: body.template_id,
          metric: body.metric,
          baselineMetric: body.baseline_metric,
          bestMetric: body.best_metric,
          parameterImportance: body.parameter_importance,
          suggestedFollowups: body.suggested_followups,
        });
        return toStudyJson(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/studies',
      tag,
      summary: 'List studies, newest first',
      query: listStudiesQuery,
      success: { status: 200, description: 'A page of studies', schema: pageOf(studyJson), list: true },
      errors: [],
      async handler({ query }) {
        const after = ctx.cursors.assertDecoded('studies', query.cursor);
        const page = await listStudies(ctx.db, { after, limit: query.limit ?? 50, clusterId: query.cluster_id });
        return toListResult(ctx, 'studies', page, toStudyJson);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/studies/:id',
      tag,
      summary: 'Get a study',
      params: idParams,
      success: { status: 200, description: 'The study', schema: studyJson },
      errors: ['STUDY_NOT_FOUND'],
      async handler({ params }) {
        const row = await findStudy(ctx.db, params.id);
        if (row === undefined) throw new AppError({ code: 'STUDY_NOT_FOUND', message: `study ${params.id} not found` });
        return toStudyJson(row);
      },
    }),
  ];
}

// /templates (docs/api.md): create, list (optionally by cluster), get, and fix in place.
import { AppError } from '../../domain/errors.js';
import { findTemplate, insertTemplate, listTemplates, updateTemplate } from '../../db/templates.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams, pageOf } from '../schemas/common.js';
import {
  createTemplateBody,
  listTemplatesQuery,
  patchTemplateBody,
  templateJson,
  toTemplateJson,
} from '../schemas/templates.js';
import { toListResult, type RouteContext } from './context.js';

/** 409: another template of the cluster has the name (its params file would be shared). */
function nameTaken(name: string): AppError {
  return new AppError({
    code: 'TEMPLATE_NAME_TAKEN',
    message: `the cluster already has a template named "${name}" (its params file is ${name}.params.json)`,
  });
}

export function templateRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'query templates';
  return [
    defineRoute({
      method: 'post',
      path: '/templates',
      tag,
      summary: 'Create a query template',
      body: createTemplateBody,
      success: { status: 201, description: 'Created', schema: templateJson },
      errors: ['CLUSTER_NOT_FOUND', 'TEMPLATE_NAME_TAKEN'],
      async handler({ body }) {
        const row = await insertTemplate(ctx.db, {
          clusterId: body.cluster_id,
          name: body.name,
          declaredParams: body.declared_params,
        });
        if (row === 'cluster_not_found')
          throw new AppError({ code: 'CLUSTER_NOT_FOUND', message: `cluster ${body.cluster_id} not found` });
        if (row === 'name_taken') throw nameTaken(body.name);
        return toTemplateJson(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/templates',
      tag,
      summary: 'List query templates, newest first',
      query: listTemplatesQuery,
      success: { status: 200, description: 'A page of templates', schema: pageOf(templateJson), list: true },
      errors: [],
      async handler({ query }) {
        const after = ctx.cursors.assertDecoded('query_templates', query.cursor);
        const page = await listTemplates(ctx.db, { after, limit: query.limit ?? 50, clusterId: query.cluster_id });
        return toListResult(ctx, 'query_templates', page, toTemplateJson);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/templates/:id',
      tag,
      summary: 'Get a query template',
      params: idParams,
      success: { status: 200, description: 'The template', schema: templateJson },
      errors: ['TEMPLATE_NOT_FOUND'],
      async handler({ params }) {
        const row = await findTemplate(ctx.db, params.id);
        if (row === undefined)
          throw new AppError({ code: 'TEMPLATE_NOT_FOUND', message: `template ${params.id} not found` });
        return toTemplateJson(row);
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/templates/:id',
      tag,
      summary: 'Fix a query template in place (name, declared params); proposals opened afterwards use it',
      params: idParams,
      body: patchTemplateBody,
      success: { status: 200, description: 'The updated template', schema: templateJson },
      errors: ['TEMPLATE_NOT_FOUND', 'TEMPLATE_NAME_TAKEN'],
      async handler({ params, body }) {
        const changed = await updateTemplate(ctx.db, params.id, {
          name: body.name,
          declaredParams: body.declared_params,
        });
        if (changed === 'not_found')
          throw new AppError({ code: 'TEMPLATE_NOT_FOUND', message: `template ${params.id} not found` });
        if (changed === 'name_taken') throw nameTaken(body.name as string);
        const { before, after } = changed;
        // The audit trail: what changed, from what to what (updated_at moves with it).
        ctx.logger.info(
          {
            audit: 'template_updated',
            template_id: after.id,
            ...(before.name === after.name ? {} : { name: { from: before.name, to: after.name } }),
            declared_params: {
              added: after.declaredParams.filter((p) => !before.declaredParams.includes(p)),
              removed: before.declaredParams.filter((p) => !after.declaredParams.includes(p)),
            },
          },
          'template updated',
        );
        return toTemplateJson(after);
      },
    }),
  ];
}

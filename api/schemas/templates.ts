// Wire schemas of /templates (docs/architecture.md "Data"). Names follow docs/architecture.md
// "Security rules": they become file names (`{config_path}/{name}.params.json`).
import { z } from 'zod';
import type { QueryTemplate } from '../../db/templates.js';
import { tryTemplateNameProblem } from '../../domain/paths.js';
import { id, pagingQuery, paramName, timestamp } from './common.js';

const templateName = z.string().superRefine((n, ctx) => {
  const problem = tryTemplateNameProblem(n);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const MAX_DECLARED_PARAMS = 200;

const declaredParams = z
  .array(paramName)
  .max(MAX_DECLARED_PARAMS)
  .refine((ps) => new Set(ps).size === ps.length, 'must not repeat a parameter')
  .describe('Flat keys of the params file a proposal may change, e.g. `field_boosts.title`.');

export const createTemplateBody = z.strictObject({
  cluster_id: id,
  name: templateName,
  declared_params: declaredParams,
});

/** A template is fixed in place: a `PARAM_NOT_IN_TEMPLATE` proposal can then be opened. */
export const patchTemplateBody = z
  .strictObject({ name: templateName.optional(), declared_params: declaredParams.optional() })
  .refine((b) => Object.keys(b).length > 0, 'give name and/or declared_params');

export const listTemplatesQuery = z.strictObject({ ...pagingQuery, cluster_id: id.optional() });

export const templateJson = z.strictObject({
  id,
  cluster_id: id,
  name: z.string(),
  declared_params: z.array(z.string()),
  created_at: timestamp,
  updated_at: timestamp,
});

export type TemplateJson = z.infer<typeof templateJson>;

export function toTemplateJson(t: QueryTemplate): TemplateJson {
  return {
    id: t.id,
    cluster_id: t.clusterId,
    name: t.name,
    declared_params: t.declaredParams,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

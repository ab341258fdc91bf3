// Wire schemas of /studies (docs/architecture.md "Data"). Studies are written by RelyLoop's optimiser; here they
// carry what a proposal and its PR body need (metric, baseline, best, importances, follow-ups).
import { z } from 'zod';
import type { Study } from '../../db/studies.js';
import { displayName, id, pagingQuery, paramName, refusingReservedKeys, timestamp } from './common.js';
import { readParameterImportance } from '../../domain/stored-json.js';

export const MAX_IMPORTANCE_KEYS = 200;

const importance = refusingReservedKeys(
  z
    .record(paramName, z.number())
    .refine((o) => Object.keys(o).length <= MAX_IMPORTANCE_KEYS, `at most ${MAX_IMPORTANCE_KEYS} parameters`),
);

export const createStudyBody = z.strictObject({
  name: displayName(256),
  cluster_id: id,
  template_id: id,
  metric: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9@._:-]+$/, 'may contain only letters, digits, @ . _ : -')
    .describe('e.g. ndcg@10'),
  baseline_metric: z.number().nullable().default(null),
  best_metric: z.number().nullable().default(null),
  parameter_importance: importance.nullable().default(null).describe('{param: score}'),
  suggested_followups: z.array(z.string().min(1).max(500)).max(5).default([]),
});

export const listStudiesQuery = z.strictObject({ ...pagingQuery, cluster_id: id.optional() });

export const studyJson = z.strictObject({
  id,
  name: z.string(),
  cluster_id: id,
  template_id: id,
  metric: z.string(),
  baseline_metric: z.number().nullable(),
  best_metric: z.number().nullable(),
  parameter_importance: z.record(z.string(), z.number()).nullable(),
  suggested_followups: z.array(z.string()),
  created_at: timestamp,
  updated_at: timestamp,
});

export type StudyJson = z.infer<typeof studyJson>;

export function toStudyJson(s: Study): StudyJson {
  return {
    id: s.id,
    name: s.name,
    cluster_id: s.clusterId,
    template_id: s.templateId,
    metric: s.metric,
    baseline_metric: s.baselineMetric,
    best_metric: s.bestMetric,
    parameter_importance: readParameterImportance(s.parameterImportance),
    suggested_followups: s.suggestedFollowups,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

// The JSON columns as they are read back (proposals.config_diff and metric_delta,
// studies.parameter_importance): checked against the shape the API validated when it wrote them,
// so a row edited by hand or by a bad migration is refused by name instead of flowing on as a cast.
import { z } from 'zod';
import type { MetricDelta } from './metric-delta.js';
import type { ConfigDiff } from './params-diff.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const configDiff = z.record(z.string(), z.strictObject({ from: scalar, to: scalar }));
const metricDelta = z
  .record(
    z.string(),
    z.strictObject({
      baseline: z.number().nullable(),
      achieved: z.number().nullable(),
      delta_pct: z.number().nullable(),
    }),
  )
  .nullable();
const importance = z.record(z.string(), z.number()).nullable();

export class StoredJsonError extends Error {
  constructor(column: string, issue: string) {
    super(`stored ${column} does not have its shape: ${issue}`);
    this.name = 'StoredJsonError';
  }
}

function parse<T>(column: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new StoredJsonError(column, `${(issue?.path ?? []).join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}

export const readConfigDiff = (value: unknown): ConfigDiff => parse('proposals.config_diff', configDiff, value);
export const readMetricDelta = (value: unknown): MetricDelta | null =>
  parse('proposals.metric_delta', metricDelta, value ?? null);
export const readParameterImportance = (value: unknown): Record<string, number> | null =>
  parse('studies.parameter_importance', importance, value ?? null);

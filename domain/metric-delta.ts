// A proposal's metric_delta (docs/architecture.md "Data"): `{ [metric]: { baseline, achieved, delta_pct } }`. One
// type for the database, the API, the activities and the PR body; for a study-backed proposal it
// is derived from the study, never taken from the client.

// Type aliases, not interfaces: Prisma's JSON input type needs an implicit index signature.
export type MetricDeltaEntry = {
  baseline: number | null;
  achieved: number | null;
  /** Percent (13.6 means +13.6 %); null when either value is missing or the baseline is 0. */
  delta_pct: number | null;
};
export type MetricDelta = Record<string, MetricDeltaEntry>;

export interface StudyMetrics {
  metric: string;
  baselineMetric: number | null;
  bestMetric: number | null;
}

/**
 * delta_pct = (achieved − baseline) / |baseline| × 100, rounded to 6 decimals so float noise
 * (10.000000000000009) does not reach the PR body; null when either metric is missing or the
 * baseline is 0 (no meaningful percentage).
 */
export function deltaPercent(baseline: number | null, achieved: number | null): number | null {
  if (baseline === null || achieved === null || baseline === 0) return null;
  return Math.round(((achieved - baseline) / Math.abs(baseline)) * 100 * 1e6) / 1e6;
}

export function createMetricDelta(study: StudyMetrics): MetricDelta {
  const { baselineMetric: baseline, bestMetric: achieved } = study;
  // Object.fromEntries defines an own property, whatever the metric name.
  return Object.fromEntries([[study.metric, { baseline, achieved, delta_pct: deltaPercent(baseline, achieved) }]]);
}

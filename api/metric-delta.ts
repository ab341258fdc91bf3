// A study-backed proposal's metric_delta is derived from its study, never taken from the client
// (SPEC §3): `{ [metric]: { baseline, achieved: best_metric, delta_pct } }`.
import type { MetricDeltaEntry } from '../db/proposals.js';

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
export function createMetricDelta(study: StudyMetrics): Record<string, MetricDeltaEntry> {
  const { baselineMetric: baseline, bestMetric: achieved } = study;
  const deltaPct = baseline === null || achieved === null || baseline === 0
    ? null
    : Math.round(((achieved - baseline) / Math.abs(baseline)) * 100 * 1e6) / 1e6;
  // Object.fromEntries defines an own property, whatever the metric name.
  return Object.fromEntries([[study.metric, { baseline, achieved, delta_pct: deltaPct }]]);
}

// PR title and body (SPEC §8). Both kinds: study-backed (metric delta, follow-ups, importance
// fallback when the chart failed) and manual. Output goes to GitHub, so it is token-redacted as
// defence in depth (SPEC §6) and capped at GitHub's 65,536-character body limit.
import type { JsonValue, ParamChange } from './params-diff.js';
import { inlineText, markdownTable } from './markdown.js';
import { redactTokens } from './redact.js';

export const MAX_PR_BODY_LENGTH = 65_536;
export const PR_FOOTER = 'Opened by RelyLoop. Reject the proposal to close this PR.';
const TRUNCATION_NOTE = '\n\n_…truncated: the description exceeded GitHub’s 65,536-character limit._';

export interface MetricDelta {
  baseline: number;
  achieved: number;
  /** Percent (13.6 means +13.6 %); computed from baseline and achieved when absent. */
  delta_pct?: number | null;
}

export interface StudySummary {
  id: string;
  name: string;
  metricDelta: Record<string, MetricDelta> | null;
  suggestedFollowups: readonly string[];
  importance: Record<string, number> | null;
}

export interface PrBodyInput {
  proposalId: string;
  /** Null for a manual proposal. */
  study: StudySummary | null;
  changes: readonly ParamChange[];
  /** The chart PNG was committed; otherwise the importances go into the body (SPEC §5 step 9). */
  chartRendered: boolean;
  /** RELYLOOP_BASE_URL without a trailing slash. */
  relyloopBaseUrl?: string | undefined;
}

export function createPrTitle({ proposalId, studyName }: { proposalId: string; studyName?: string | null }): string {
  const title = studyName ? `RelyLoop: ${inlineText(studyName)}` : `RelyLoop manual proposal ${proposalId.slice(0, 8)}`;
  return redactTokens(title);
}

function formatValue(value: JsonValue | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

export function formatPercent(delta: MetricDelta): string | undefined {
  const pct = typeof delta.delta_pct === 'number' && Number.isFinite(delta.delta_pct)
    ? delta.delta_pct
    : delta.baseline !== 0 ? ((delta.achieved - delta.baseline) / Math.abs(delta.baseline)) * 100 : undefined;
  if (pct === undefined || !Number.isFinite(pct)) return undefined;
  const fixed = pct.toFixed(1);
  return `${pct >= 0 && !fixed.startsWith('-') ? '+' : ''}${fixed}%`;
}

function diffSection(changes: readonly ParamChange[]): string {
  const sorted = [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rows = sorted.map((c) => [
    c.key,
    c.drift ? `${formatValue(c.from)} ⚠ drift (file had ${formatValue(c.fileValue)})` : c.added ? '(new key)' : formatValue(c.from),
    formatValue(c.to),
  ]);
  const parts = ['### Config diff', '', markdownTable(['Param', 'From', 'To'], rows)];
  if (changes.some((c) => c.drift)) {
    parts.push('', '⚠ drift: the file’s current value differs from the proposal’s `from`; this PR sets `To` regardless.');
  }
  return parts.join('\n');
}

function metricSection(metricDelta: Record<string, MetricDelta> | null): string {
  const entries = Object.entries(metricDelta ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '### Metric delta\n\nNo metric delta was recorded.';
  const lines = entries.map(([metric, d]) => {
    const pct = formatPercent(d);
    return `- ${inlineText(metric)}: ${d.baseline} → ${d.achieved}${pct === undefined ? '' : ` (${pct})`}`;
  });
  return ['### Metric delta', '', ...lines].join('\n');
}

function importanceSection(importance: Record<string, number> | null): string {
  const entries = Object.entries(importance ?? {}).sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
  if (entries.length === 0) return '### Parameter importance\n\nParameter importances are unavailable for this study.';
  const rows = entries.map(([param, score]) => [param, String(score)]);
  return ['### Parameter importance', '', markdownTable(['Param', 'Importance'], rows)].join('\n');
}

function studySections(study: StudySummary, input: PrBodyInput): string[] {
  const link = input.relyloopBaseUrl ? `\n\n[Open the study in RelyLoop](${input.relyloopBaseUrl}/studies/${encodeURIComponent(study.id)})` : '';
  const followups = study.suggestedFollowups.length === 0
    ? 'None.'
    : study.suggestedFollowups.map((f) => `- ${inlineText(f)}`).join('\n');
  const sections = [
    `## RelyLoop proposal: ${inlineText(study.name)}`,
    `Study **${inlineText(study.name)}** (\`${study.id}\`), proposal \`${input.proposalId}\`.${link}`,
    metricSection(study.metricDelta),
    diffSection(input.changes),
    `### Suggested follow-ups\n\n${followups}`,
  ];
  if (!input.chartRendered) sections.push(importanceSection(study.importance));
  return sections;
}

function manualSections(input: PrBodyInput): string[] {
  return [
    '## RelyLoop proposal (manual)',
    `Manual proposal \`${input.proposalId}\`. It was not produced by a study, so no study metrics exist for it.`,
    diffSection(input.changes),
  ];
}

/**
 * Joins content and footer within the cap: when too long, the content is cut (never inside a
 * surrogate pair) and a note says so; the footer always survives.
 */
export function capPrBody(content: string, footer: string, max = MAX_PR_BODY_LENGTH): string {
  const whole = `${content}\n\n${footer}`;
  if (whole.length <= max) return whole;
  let end = max - TRUNCATION_NOTE.length - footer.length - 2;
  const last = content.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${content.slice(0, end)}${TRUNCATION_NOTE}\n\n${footer}`;
}

export function createPrBody(input: PrBodyInput): string {
  const sections = input.study === null ? manualSections(input) : studySections(input.study, input);
  // Redact before capping, so the cap holds on the text that is actually sent.
  return capPrBody(redactTokens(sections.join('\n\n')), `---\n${PR_FOOTER}`);
}

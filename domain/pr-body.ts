// PR title and body (docs/architecture.md "PR body"). Both kinds: study-backed (metric delta, follow-ups, importance
// fallback when the chart failed) and manual. Output goes to GitHub, so it is token-redacted as
// defence in depth (docs/architecture.md "Security rules") and capped at GitHub's 65,536-character body limit.
import type { MetricDelta, MetricDeltaEntry } from './metric-delta.js';
import type { JsonValue, ParamChange } from './params-diff.js';
import { inlineText, markdownTable } from './markdown.js';
import { redactTokens } from './redact.js';

/** GitHub's limits on a pull request: 65,536 characters of body, 256 of title. */
export const MAX_PR_BODY_LENGTH = 65_536;
export const MAX_PR_TITLE_LENGTH = 256;
/**
 * GitHub counts characters its own way (line breaks are stored as CRLF), so the body is cut
 * well below its limit: a bare LF counts two here, and 1,024 characters stay spare
 * (docs/architecture.md "Forge behaviour").
 */
export const PR_BODY_BUDGET = MAX_PR_BODY_LENGTH - 1_024;
export const PR_FOOTER = 'Opened by RelyLoop. Reject the proposal to close this PR.';
const TRUNCATION_NOTE = '\n\n_…truncated: the description exceeded GitHub’s 65,536-character limit._';

/** Each code point of `text` with its weight in GitHub's count: a bare LF counts two (CRLF). */
function* weighted(text: string): Generator<[string, number]> {
  let previous = '';
  for (const ch of text) {
    yield [ch, ch === '\n' && previous !== '\r' ? 2 : 1];
    previous = ch;
  }
}

/** A text's length as GitHub's limit counts it, rounded up: code points, a bare LF as two. */
export function githubTextLength(text: string): number {
  let n = 0;
  for (const [, weight] of weighted(text)) n += weight;
  return n;
}

/** The longest prefix of `text` whose GitHub length is at most `max`, never splitting a code point. */
function cutTo(text: string, max: number): string {
  let n = 0;
  let end = 0;
  for (const [ch, weight] of weighted(text)) {
    n += weight;
    if (n > max) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

export interface StudySummary {
  id: string;
  name: string;
  metricDelta: MetricDelta | null;
  suggestedFollowups: readonly string[];
  importance: Record<string, number> | null;
}

export interface PrBodyInput {
  proposalId: string;
  /** Null for a manual proposal. */
  study: StudySummary | null;
  changes: readonly ParamChange[];
  /**
   * The chart PNG was committed; otherwise the importances go into the body (docs/architecture.md
   * "The open-PR workflow" step 9).
   */
  chartRendered: boolean;
  /** RELYLOOP_BASE_URL without a trailing slash. */
  relyloopBaseUrl?: string | undefined;
}

export function createPrTitle({ proposalId, studyName }: { proposalId: string; studyName?: string | null }): string {
  const title = redactTokens(
    studyName ? `RelyLoop: ${inlineText(studyName)}` : `RelyLoop manual proposal ${proposalId.slice(0, 8)}`,
  );
  // A study name may be 256 characters itself; GitHub refuses a longer title.
  return githubTextLength(title) <= MAX_PR_TITLE_LENGTH ? title : `${cutTo(title, MAX_PR_TITLE_LENGTH - 1)}…`;
}

function formatValue(value: JsonValue | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

export function formatPercent(delta: MetricDeltaEntry): string | undefined {
  // Computed once, when the proposal was created (metric-delta.ts createMetricDelta).
  const pct = delta.delta_pct;
  if (pct === null || !Number.isFinite(pct)) return undefined;
  const fixed = pct.toFixed(1);
  return `${pct >= 0 && !fixed.startsWith('-') ? '+' : ''}${fixed}%`;
}

function diffSection(changes: readonly ParamChange[]): string {
  const sorted = [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rows = sorted.map((c) => [
    c.key,
    c.drift
      ? `${formatValue(c.from)} ⚠ drift (file had ${formatValue(c.fileValue)})`
      : c.added
        ? '(new key)'
        : formatValue(c.from),
    formatValue(c.to),
  ]);
  const parts = ['### Config diff', '', markdownTable(['Param', 'From', 'To'], rows)];
  if (changes.some((c) => c.drift)) {
    parts.push(
      '',
      '⚠ drift: the file’s current value differs from the proposal’s `from`; this PR sets `To` regardless.',
    );
  }
  return parts.join('\n');
}

function metricSection(metricDelta: MetricDelta | null): string {
  // An entry without both values cannot be shown as a change.
  const entries = Object.entries(metricDelta ?? {})
    .filter(([, d]) => d.baseline !== null && d.achieved !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
  const link = input.relyloopBaseUrl
    ? `\n\n[Open the study in RelyLoop](${input.relyloopBaseUrl}/studies/${encodeURIComponent(study.id)})`
    : '';
  const followups =
    study.suggestedFollowups.length === 0
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
 * Joins content and footer within the budget (GitHub's way of counting): when too long, the
 * content is cut after its last whole line that fits (a table keeps whole rows; a single line
 * longer than the budget is cut at a code point) and a note says so; the footer always survives.
 */
export function capPrBody(content: string, footer: string, max = PR_BODY_BUDGET): string {
  const whole = `${content}\n\n${footer}`;
  if (githubTextLength(whole) <= max) return whole;
  const tail = `${TRUNCATION_NOTE}\n\n${footer}`;
  const kept = cutTo(content, max - githubTextLength(tail));
  const lineEnd = kept.lastIndexOf('\n');
  return `${lineEnd > 0 ? kept.slice(0, lineEnd).replace(/\r$/, '') : kept}${tail}`;
}

export function createPrBody(input: PrBodyInput): string {
  const sections = input.study === null ? manualSections(input) : studySections(input.study, input);
  // Redact before capping, so the cap holds on the text that is actually sent.
  return capPrBody(redactTokens(sections.join('\n\n')), `---\n${PR_FOOTER}`);
}

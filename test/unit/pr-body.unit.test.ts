import { describe, test, expect } from '@jest/globals';
import {
  capPrBody,
  createPrBody,
  createPrTitle,
  formatPercent,
  githubTextLength,
  MAX_PR_BODY_LENGTH,
  MAX_PR_TITLE_LENGTH,
  PR_FOOTER,
  type PrBodyInput,
  type StudySummary,
} from '../../domain/pr-body.js';
import type { ParamChange } from '../../domain/params-diff.js';
import { REDACTED } from '../../domain/redact.js';

const PROPOSAL = '6f1c2a3b-0000-4000-8000-00000000000a';
const STUDY_ID = '9e8d7c6b-0000-4000-8000-00000000000b';
const TOKEN = `github_pat_${'x'.repeat(40)}`;

const CHANGES: ParamChange[] = [
  { key: 'field_boosts.title', from: 2, to: 4.5, fileValue: 2, drift: false, added: false },
  { key: 'bm25.k1', from: 1.2, to: 1.6, fileValue: 1.4, drift: true, added: false },
  { key: 'fuzziness', from: null, to: 'AUTO', fileValue: undefined, drift: false, added: true },
];

const STUDY: StudySummary = {
  id: STUDY_ID,
  name: 'BM25 sweep',
  metricDelta: { 'ndcg@10': { baseline: 0.412, achieved: 0.468, delta_pct: 13.59 } },
  suggestedFollowups: ['Try fuzziness AUTO:4,7', 'Re-run on the EU cluster'],
  importance: { 'bm25.k1': 0.31, 'field_boosts.title': 0.42 },
};

function body(overrides: Partial<PrBodyInput>): string {
  return createPrBody({
    proposalId: PROPOSAL,
    study: STUDY,
    changes: CHANGES,
    chartRendered: true,
    relyloopBaseUrl: 'https://relyloop.example.com',
    ...overrides,
  });
}

describe('createPrTitle', () => {
  test.each([
    ['study-backed', 'BM25 sweep', 'RelyLoop: BM25 sweep'],
    ['manual', null, 'RelyLoop manual proposal 6f1c2a3b'],
    ['name with a newline', 'a\nb', 'RelyLoop: a b'],
    ['name carrying a token', `leak ${TOKEN}`, `RelyLoop: leak ${REDACTED}`],
  ])('%s', (_name, studyName, expected) => {
    expect(createPrTitle({ proposalId: PROPOSAL, studyName })).toBe(expected);
  });
});

describe('createPrBody', () => {
  test.each([
    ['study-backed, chart rendered', {}],
    ['study-backed, chart failed: importance table', { chartRendered: false }],
    ['study-backed, chart failed, no importances', { chartRendered: false, study: { ...STUDY, importance: null } }],
    [
      'study-backed, no base URL, no follow-ups',
      { relyloopBaseUrl: undefined, study: { ...STUDY, suggestedFollowups: [] } },
    ],
    ['manual', { study: null }],
  ])('%s', (_name, overrides) => {
    expect(body(overrides)).toMatchSnapshot();
  });

  test('study-backed: the parts docs/architecture.md "PR body" names', () => {
    const text = body({});
    expect(text).toContain('## RelyLoop proposal: BM25 sweep');
    expect(text).toContain(STUDY_ID);
    expect(text).toContain(`https://relyloop.example.com/studies/${STUDY_ID}`);
    expect(text).toContain('- ndcg@10: 0.412 → 0.468 (+13.6%)');
    expect(text).toContain('| Param | From | To |');
    expect(text).toContain('| bm25.k1 | 1.2 ⚠ drift (file had 1.4) | 1.6 |');
    expect(text.indexOf('| bm25.k1')).toBeLessThan(text.indexOf('| field_boosts.title'));
    expect(text).toContain('### Suggested follow-ups\n\n- Try fuzziness AUTO:4,7');
    expect(text).not.toContain('### Parameter importance');
    expect(text.endsWith(PR_FOOTER)).toBe(true);
  });

  test('manual: no metrics, says so, has the diff and the footer', () => {
    const text = body({ study: null });
    expect(text).toContain('## RelyLoop proposal (manual)');
    expect(text).toContain('no study metrics exist');
    expect(text).not.toContain('Metric delta');
    expect(text).not.toContain('Suggested follow-ups');
    expect(text).toContain('| field_boosts.title | 2 | 4.5 |');
    expect(text.endsWith(PR_FOOTER)).toBe(true);
  });

  test('importance table is sorted descending when the chart failed', () => {
    const text = body({ chartRendered: false });
    expect(text.indexOf('| field_boosts.title | 0.42 |')).toBeLessThan(text.indexOf('| bm25.k1 | 0.31 |'));
  });

  test.each([
    ['pipe', 'a|b', 'a\\|b'],
    ['newline', 'a\nb', 'a<br>b'],
    ['html', '<img src=x>', '&lt;img src=x&gt;'],
  ])('table cells escape %s', (_name, key, escaped) => {
    const text = body({ changes: [{ key, from: 1, to: 2, fileValue: 1, drift: false, added: false }] });
    expect(text).toContain(`| ${escaped} | 1 | 2 |`);
  });

  test('tokens anywhere in the inputs are redacted', () => {
    const text = body({
      study: { ...STUDY, name: TOKEN, suggestedFollowups: [TOKEN] },
      changes: [{ key: 'k', from: TOKEN, to: TOKEN, fileValue: TOKEN, drift: false, added: false }],
    });
    expect(text).not.toContain(TOKEN);
    expect(text).toContain(REDACTED);
  });

  test('a body over 65,536 characters is cut with a note and keeps its footer', () => {
    const changes: ParamChange[] = Array.from({ length: 3000 }, (_, i) => ({
      key: `param_${i}`,
      from: 'x'.repeat(20),
      to: 'y'.repeat(20),
      fileValue: 'x'.repeat(20),
      drift: false,
      added: false,
    }));
    const text = body({ changes });
    // GitHub's count (a bare LF as two), with the margin docs/architecture.md "Forge behaviour" asks for.
    expect(githubTextLength(text)).toBeLessThanOrEqual(MAX_PR_BODY_LENGTH - 1_000);
    expect(githubTextLength(text)).toBeGreaterThan(MAX_PR_BODY_LENGTH - 2_000);
    expect(text).toContain('truncated');
    expect(text.endsWith(PR_FOOTER)).toBe(true);
  });

  test('the cut keeps whole lines, counted as GitHub counts them: multi-byte, astral, CRLF', () => {
    const row = (i: number) => `| größe_${i} | 😀 ${'日本'.repeat(10)} | ✓ |`;
    const content = Array.from({ length: 5_000 }, (_, i) => row(i)).join('\n');
    const out = capPrBody(content, PR_FOOTER);
    expect(githubTextLength(out)).toBeLessThanOrEqual(MAX_PR_BODY_LENGTH - 1_000);
    // JavaScript's length of the same text differs (astral characters are two units, LF one).
    expect(out.length).not.toBe(githubTextLength(out));
    const [kept] = out.split('\n\n_…truncated');
    const lines = (kept as string).split('\n');
    expect(lines.every((l, i) => l === row(i))).toBe(true);
    expect(lines.length).toBeGreaterThan(1_000);
    expect(out.endsWith(PR_FOOTER)).toBe(true);
    // A line with CRLF endings is cut before its CR.
    const crlf = capPrBody(Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\r\n'), 'F', 200);
    expect(crlf).not.toMatch(/\r(?!\n)/);
    expect(githubTextLength(crlf)).toBeLessThanOrEqual(200);
  });

  test('the cut never splits a surrogate pair', () => {
    const footer = 'F';
    const out = capPrBody('😀'.repeat(100), footer, 120);
    expect(githubTextLength(out)).toBeLessThanOrEqual(120);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  test("a title over GitHub's 256 characters is cut with an ellipsis", () => {
    const title = createPrTitle({ proposalId: PROPOSAL, studyName: 'ü'.repeat(256) });
    expect([...title]).toHaveLength(MAX_PR_TITLE_LENGTH);
    expect(title).toMatch(/^RelyLoop: ü+…$/);
    expect(createPrTitle({ proposalId: PROPOSAL, studyName: 'short' })).toBe('RelyLoop: short');
  });

  test("GitHub's count: code points, a bare LF as two", () => {
    expect(githubTextLength('a\nb\r\nc😀')).toBe(8);
  });
});

describe('formatPercent', () => {
  test.each([
    [{ baseline: 0.4, achieved: 0.45, delta_pct: 12.5 }, '+12.5%'],
    [{ baseline: 0.4, achieved: 0.3, delta_pct: -25 }, '-25.0%'],
    [{ baseline: 0.4, achieved: 0.5, delta_pct: null }, undefined], // the stored value is the one (computed at creation)
    [{ baseline: 0, achieved: 0.5, delta_pct: null }, undefined],
    [{ baseline: null, achieved: 0.5, delta_pct: null }, undefined],
    [{ baseline: 0.4, achieved: 0.4, delta_pct: -0.01 }, '-0.0%'],
  ])('%j → %s', (delta, expected) => {
    expect(formatPercent(delta)).toBe(expected);
  });
});

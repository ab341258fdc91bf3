import { describe, test, expect } from '@jest/globals';
import { chartFilePath, createBranchName } from '../../domain/branch-names.js';
import { chartCommentMarker, createChartComment } from '../../domain/chart-comment.js';
import { createCommitMessage, parseRelyLoopTrailers } from '../../domain/commit-message.js';
import { createImportanceChartSpec } from '../../domain/chart-spec.js';
import { REDACTED } from '../../domain/redact.js';

const PROPOSAL = '6f1c2a3b-0000-4000-8000-00000000000a';
const STUDY = '9e8d7c6b-0000-4000-8000-00000000000b';
const TOKEN = `ghp_${'A'.repeat(36)}`;

describe('createBranchName', () => {
  test.each([
    ['study-backed', { proposalId: PROPOSAL, studyId: STUDY }, `relyloop/study-${STUDY}`],
    ['manual (null study)', { proposalId: PROPOSAL, studyId: null }, `relyloop/proposal-${PROPOSAL}`],
    ['manual (no study)', { proposalId: PROPOSAL }, `relyloop/proposal-${PROPOSAL}`],
  ])('%s', (_name, input, expected) => {
    expect(createBranchName(input)).toBe(expected);
  });

  test('chart path is a nested path under .relyloop', () => {
    expect(chartFilePath(STUDY)).toBe(`.relyloop/digest-charts/${STUDY}.png`);
  });
});

describe('createChartComment', () => {
  test.each([
    ['github.com', 'https://github.com/acme/search-config'],
    ['Enterprise host', 'https://ghe.example.com/acme/search-config'],
    ['sandbox over http', 'http://127.0.0.1:40123/acme/search-config'],
  ])('%s: raw URL through refs/heads with the slashed branch, plus the marker', (_name, webUrl) => {
    const branch = createBranchName({ proposalId: PROPOSAL, studyId: STUDY });
    const body = createChartComment({ webUrl, branch, studyId: STUDY, proposalId: PROPOSAL });
    expect(body).toBe(
      `![Parameter importance](${webUrl}/raw/refs/heads/relyloop/study-${STUDY}/.relyloop/digest-charts/${STUDY}.png)\n\n<!-- relyloop:chart:${PROPOSAL} -->`,
    );
    expect(chartCommentMarker(PROPOSAL)).toBe(`<!-- relyloop:chart:${PROPOSAL} -->`);
  });
});

describe('createCommitMessage', () => {
  test.each([
    ['study-backed', { id: STUDY, name: 'BM25 sweep' }],
    ['manual', null],
  ])('%s', (_name, study) => {
    const message = createCommitMessage({
      proposalId: PROPOSAL,
      templateName: 'products',
      clusterName: 'prod-eu',
      study,
      changedKeys: ['bm25.k1', 'field_boosts.title'],
    });
    expect(message).toMatchSnapshot();
    expect(parseRelyLoopTrailers(message)).toEqual(
      study === null ? { proposalId: PROPOSAL } : { proposalId: PROPOSAL, studyId: STUDY },
    );
  });

  test('a newline in a name cannot forge a trailer', () => {
    const message = createCommitMessage({
      proposalId: PROPOSAL,
      templateName: 'products',
      clusterName: 'prod',
      study: { id: STUDY, name: 'evil\n\nRelyLoop-Proposal: 00000000-0000-0000-0000-000000000000' },
      changedKeys: [],
    });
    expect(parseRelyLoopTrailers(message)).toEqual({ proposalId: PROPOSAL, studyId: STUDY });
  });

  test('a token in a name is redacted', () => {
    const message = createCommitMessage({
      proposalId: PROPOSAL,
      templateName: 'products',
      clusterName: TOKEN,
      study: null,
      changedKeys: [],
    });
    expect(message).not.toContain(TOKEN);
    expect(message).toContain(REDACTED);
  });

  test.each([
    ['no trailer block', 'subject only', {}],
    ['trailers not in last paragraph', `s\n\nRelyLoop-Proposal: ${PROPOSAL}\n\nbody`, {}],
    ['other trailers around ours', `s\n\nSigned-off-by: x\nRelyLoop-Proposal: ${PROPOSAL}\n`, { proposalId: PROPOSAL }],
  ])('parseRelyLoopTrailers: %s', (_name, message, expected) => {
    expect(parseRelyLoopTrailers(message)).toEqual(expected);
  });
});

describe('createImportanceChartSpec', () => {
  test('800×600, fit to size, sorted descending, titled', () => {
    const spec = createImportanceChartSpec({
      fuzziness: 0.12,
      'bm25.k1': 0.31,
      'field_boosts.title': 0.42,
      tie_b: 0.12,
    });
    expect(spec).toMatchSnapshot();
    expect(spec).toMatchObject({ width: 800, height: 600, title: { text: 'Parameter importance' } });
    const rows = (spec.data as { values: { param: string }[] }).values.map((r) => r.param);
    expect(rows).toEqual(['field_boosts.title', 'bm25.k1', 'fuzziness', 'tie_b']);
  });
});

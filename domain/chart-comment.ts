// The chart comment of docs/architecture.md "The open-PR workflow" step 13: the PNG committed on
// the branch, linked through the slash-safe `raw/refs/heads/{branch}` form (a branch such as
// `relyloop/study-x` would otherwise be ambiguous), plus a hidden marker so a retried step finds
// its earlier comment instead of posting twice. The repo's web URL is used so Enterprise and
// sandbox hosts work.
import { chartFilePath } from './branch-names.js';
import { redactTokens } from './redact.js';

export function chartCommentMarker(proposalId: string): string {
  return `<!-- relyloop:chart:${proposalId} -->`;
}

export interface ChartCommentInput {
  /** Repository web URL, e.g. https://github.com/o/r (domain/github-url.ts `webUrl`). */
  webUrl: string;
  branch: string;
  studyId: string;
  proposalId: string;
}

export function chartRawUrl({ webUrl, branch, studyId }: Omit<ChartCommentInput, 'proposalId'>): string {
  const encodedBranch = branch.split('/').map(encodeURIComponent).join('/');
  return `${webUrl}/raw/refs/heads/${encodedBranch}/${chartFilePath(encodeURIComponent(studyId))}`;
}

export function createChartComment(input: ChartCommentInput): string {
  return redactTokens(`![Parameter importance](${chartRawUrl(input)})\n\n${chartCommentMarker(input.proposalId)}`);
}

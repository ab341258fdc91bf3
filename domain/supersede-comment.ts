// The comment an older PR gets when a newer proposal's PR supersedes it (docs/architecture.md
// "PR lifecycle"): a link to the new PR, and a hidden marker naming the new proposal, so a retried
// supersede finds its comment instead of posting it twice.
import { redactTokens } from './redact.js';

export function supersedeCommentMarker(newProposalId: string): string {
  return `<!-- relyloop:superseded-by:${newProposalId} -->`;
}

export interface SupersedeCommentInput {
  newProposalId: string;
  newPr: { number: number; url: string };
  paramsPath: string;
}

export function createSupersedeComment(input: SupersedeCommentInput): string {
  const path = input.paramsPath.replace(/`/g, "'");
  return redactTokens(
    [
      `Superseded by #${input.newPr.number} (${input.newPr.url}), which changes the same params file \`${path}\`.`,
      '',
      `relyloop-pr closed this PR: proposal \`${input.newProposalId}\` replaced its proposal. ` +
        'Its branch is deleted when it holds only the commit relyloop-pr made.',
      '',
      supersedeCommentMarker(input.newProposalId),
    ].join('\n'),
  );
}

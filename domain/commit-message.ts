// Commit message of docs/architecture.md "The open-PR workflow" step 10, and the trailers step 6
// reads back to recognise our own commit on a remote branch. Names come from the database, so they
// are flattened to one line: a newline in a study name must not be able to forge a
// `RelyLoop-Proposal:` trailer.
import { redactTokens } from './redact.js';

export const PROPOSAL_TRAILER = 'RelyLoop-Proposal';
export const STUDY_TRAILER = 'RelyLoop-Study';

export interface CommitMessageInput {
  proposalId: string;
  templateName: string;
  clusterName: string;
  /** Null for a manual proposal. */
  study: { id: string; name: string } | null;
  /** Changed parameter keys, listed in the body. */
  changedKeys: readonly string[];
}

/** What a commit message says of the proposal (all but the changed keys). */
export type CommitDescription = Omit<CommitMessageInput, 'changedKeys'>;

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function createCommitMessage(input: CommitMessageInput): string {
  const template = oneLine(input.templateName);
  const cluster = oneLine(input.clusterName);
  const subject = `RelyLoop: tune ${template} params on cluster ${cluster}`;
  const origin =
    input.study === null
      ? `Manual proposal ${input.proposalId}.`
      : `From study "${oneLine(input.study.name)}" (${input.study.id}).`;
  const keys = [...input.changedKeys].sort().map((k) => `- ${oneLine(k)}`);
  const trailers = [`${PROPOSAL_TRAILER}: ${input.proposalId}`];
  if (input.study !== null) trailers.push(`${STUDY_TRAILER}: ${input.study.id}`);
  const body = [origin, `Template: ${template}`, `Cluster: ${cluster}`];
  if (keys.length > 0) body.push(`Parameters:\n${keys.join('\n')}`);
  return redactTokens(`${subject}\n\n${body.join('\n')}\n\n${trailers.join('\n')}\n`);
}

export interface RelyLoopTrailers {
  proposalId?: string;
  studyId?: string;
}

/** Reads our trailers from the last paragraph of a commit message (git's trailer block). */
export function parseRelyLoopTrailers(message: string): RelyLoopTrailers {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const block = paragraphs.length > 1 ? (paragraphs.at(-1) ?? '') : '';
  const out: RelyLoopTrailers = {};
  for (const line of block.split('\n')) {
    const match = /^([A-Za-z0-9-]+):\s*(\S+)\s*$/.exec(line);
    if (match?.[1] === PROPOSAL_TRAILER) out.proposalId = match[2];
    if (match?.[1] === STUDY_TRAILER) out.studyId = match[2];
  }
  return out;
}

// Branch names of docs/architecture.md "The open-PR workflow" step 6. Study-backed proposals share
// the study's branch name (one PR per study); manual proposals get their own. Ids are uuids, so the
// names need no escaping.

export const BRANCH_PREFIX = 'relyloop/';

export interface BranchNameInput {
  proposalId: string;
  /** Null or undefined for a manual proposal. */
  studyId?: string | null;
}

export function createBranchName({ proposalId, studyId }: BranchNameInput): string {
  return studyId ? `${BRANCH_PREFIX}study-${studyId}` : `${BRANCH_PREFIX}proposal-${proposalId}`;
}

/** Repository path of the committed chart PNG (docs/architecture.md "The open-PR workflow" steps 10 and 13). */
export function chartFilePath(studyId: string): string {
  return `.relyloop/digest-charts/${studyId}.png`;
}

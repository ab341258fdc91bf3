// Workflow ids (docs/architecture.md "Architecture"). A proposal's run is `open-pr:{proposal_id}`; once a run has failed and
// left a pr_open_error, the next id is salted with the first 8 hex chars of that error's SHA-256,
// so a retry after a failure starts a new run while a double-click during a run attaches to it.
import { createHash } from 'node:crypto';

export function openPrWorkflowId(proposalId: string, prOpenError: string | null): string {
  if (prOpenError === null || prOpenError === '') return `open-pr:${proposalId}`;
  const salt = createHash('sha256').update(prOpenError, 'utf8').digest('hex').slice(0, 8);
  return `open-pr:${proposalId}:retry-${salt}`;
}

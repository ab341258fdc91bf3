// What the open-PR steps 10 and 12 take of a proposal, shaped by the workflow. Pure and
// dependency-free, so workflow code may import it without pulling in the renderers.
import type { CommitDescription } from './commit-message.js';
import type { MetricDelta } from './metric-delta.js';
import type { StudySummary } from './pr-body.js';

/** What the PR body shows of a proposal's study. */
export function studySummaryOf(
  study: {
    id: string;
    name: string;
    suggestedFollowups: readonly string[];
    parameterImportance: Record<string, number> | null;
  } | null,
  metricDelta: MetricDelta | null,
): StudySummary | null {
  return (
    study && {
      id: study.id,
      name: study.name,
      metricDelta,
      suggestedFollowups: study.suggestedFollowups,
      importance: study.parameterImportance,
    }
  );
}

/** The description of a proposal as the workflow and the activities hold it. */
export function commitDescriptionOf(proposal: {
  proposalId: string;
  templateName: string;
  clusterName: string;
  study: { id: string; name: string } | null;
}): CommitDescription {
  return {
    proposalId: proposal.proposalId,
    templateName: proposal.templateName,
    clusterName: proposal.clusterName,
    study: proposal.study && { id: proposal.study.id, name: proposal.study.name },
  };
}

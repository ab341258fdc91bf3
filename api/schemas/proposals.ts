// Wire schemas of /proposals (docs/architecture.md "Data", docs/api.md). config_diff is `{param:
// {from, to}}` with at most 200 keys; from/to are JSON scalars (number, string ≤ 1000 chars,
// boolean, null) because they replace one flat value of the params file (docs/architecture.md "The
// open-PR workflow" step 8). Keys are NOT checked against the template's declared_params here: the
// workflow does that inside the lock (docs/architecture.md "The open-PR workflow" step 8).
import { z } from 'zod';
import type { Proposal } from '../../db/proposals.js';
import type { MetricDeltaEntry } from '../../domain/metric-delta.js';
import type { ConfigDiffEntry } from '../../domain/params-diff.js';
import { id, pagingQuery, paramName, refusingReservedKeys, timestamp } from './common.js';
import { RUN_FAILURE_CODES } from '../../domain/errors.js';
import { MERGE_STATES, type MergeState } from '../../domain/merge-contracts.js';
import { readConfigDiff, readMetricDelta } from '../../domain/stored-json.js';

export const MAX_DIFF_KEYS = 200;

const scalar = z.union([z.number(), z.string().max(1000), z.boolean(), z.null()]);

const diffEntry = z.strictObject({ from: scalar, to: scalar }) satisfies z.ZodType<ConfigDiffEntry>;

export const configDiff = refusingReservedKeys(
  z
    .record(paramName, diffEntry)
    .refine((o) => Object.keys(o).length >= 1, 'must change at least one parameter')
    .refine((o) => Object.keys(o).length <= MAX_DIFF_KEYS, `at most ${MAX_DIFF_KEYS} parameters`),
).describe('{param: {from, to}}; from/to are numbers, strings (≤ 1000 chars), booleans or null.');

export const createProposalBody = z.strictObject({
  cluster_id: id,
  template_id: id,
  study_id: id.nullable().default(null).describe('Null (or absent) for a manual proposal.'),
  config_diff: configDiff,
});

export const PROPOSAL_STATUSES = ['pending', 'pr_opened', 'pr_merged', 'rejected', 'superseded'] as const;
export const PR_STATES = ['open', 'closed', 'merged'] as const;

export const listProposalsQuery = z.strictObject({
  ...pagingQuery,
  status: z.enum(PROPOSAL_STATUSES).optional(),
  cluster_id: id.optional(),
  pr_state: z
    .enum(PR_STATES)
    .optional()
    .describe(
      'Only proposals whose PR is in this state (e.g. `merged` with `status=rejected`: merged after a rejection).',
    ),
  has_error: z
    .enum(['true', 'false'])
    .optional()
    .describe('Only proposals whose last open-PR run recorded a failure (`true`) or none (`false`).'),
  error_code: z.enum(RUN_FAILURE_CODES).optional().describe('Only proposals whose `pr_open_error` carries this code.'),
});

export const rejectProposalBody = z.strictObject({ reason: z.string().max(500).optional() });

const metricDeltaEntry = z.strictObject({
  baseline: z.number().nullable(),
  achieved: z.number().nullable(),
  delta_pct: z.number().nullable().describe('(achieved - baseline) / |baseline| × 100; null when undefined.'),
}) satisfies z.ZodType<MetricDeltaEntry>;

export const proposalJson = z.strictObject({
  id,
  cluster_id: id,
  template_id: id,
  study_id: id.nullable(),
  config_diff: z.record(z.string(), diffEntry),
  metric_delta: z.record(z.string(), metricDeltaEntry).nullable(),
  status: z.enum(PROPOSAL_STATUSES),
  pr_url: z.string().nullable(),
  pr_number: z.number().int().nullable(),
  pr_branch: z.string().nullable(),
  pr_state: z
    .enum(PR_STATES)
    .nullable()
    .describe('Follows the PR on GitHub (webhooks and reconciliation, docs/operations.md "Webhooks").'),
  pr_state_at: timestamp
    .nullable()
    .describe(
      "GitHub's time of pr_state (the PR's updated_at, or merged_at); null until a webhook or reconciliation reported on the PR.",
    ),
  pr_open_error: z.string().nullable(),
  rejected_reason: z.string().nullable(),
  superseded_by: id
    .nullable()
    .describe(
      'With status `superseded`: the proposal whose PR replaced this one (its PR was closed with a comment linking the new one).',
    ),
  merge_state: z
    .enum(MERGE_STATES)
    .nullable()
    .describe(
      "Merge when green (the repo's `pr_options.merge`): where merging its PR stands; null when the repo does not merge PRs.",
    ),
  merge_note: z.string().nullable().describe('Why the merge ended as it did: the failed check, the head that moved, …'),
  created_at: timestamp,
  updated_at: timestamp,
});

export type ProposalJson = z.infer<typeof proposalJson>;

export function toProposalJson(p: Proposal): ProposalJson {
  return {
    id: p.id,
    cluster_id: p.clusterId,
    template_id: p.templateId,
    study_id: p.studyId,
    config_diff: readConfigDiff(p.configDiff),
    metric_delta: readMetricDelta(p.metricDelta),
    status: p.status,
    pr_url: p.prUrl,
    pr_number: p.prNumber,
    pr_branch: p.prBranch,
    pr_state: p.prState,
    pr_state_at: p.prStateAt?.toISOString() ?? null,
    pr_open_error: p.prOpenError,
    rejected_reason: p.rejectedReason,
    superseded_by: p.status === 'superseded' ? p.supersededById : null,
    merge_state: (MERGE_STATES as readonly string[]).includes(p.mergeState ?? '') ? (p.mergeState as MergeState) : null,
    merge_note: p.mergeNote,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

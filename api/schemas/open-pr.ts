// Wire schemas of the open_pr routes (docs/api.md).
import { z } from 'zod';
import { OPEN_PR_STEPS } from '../../domain/open-pr-contracts.js';
import { MERGE_STATES } from '../../domain/merge-contracts.js';
import { id, timestamp } from './common.js';

export const openPrAccepted = z.strictObject({
  proposal_id: id,
  status: z.literal('pending'),
  workflow_id: z.string(),
  run_id: z.string(),
  message: z.string(),
});

const stepView = z.strictObject({
  step: z.enum(OPEN_PR_STEPS),
  status: z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled']),
  attempts: z.number().int().min(0),
  last_failure: z.string().nullable().describe('Redacted `TYPE: message` of the latest failed attempt.'),
  note: z.string().nullable(),
});

export const openPrRun = z.strictObject({
  proposal_id: id,
  workflow_id: z.string(),
  run_id: z.string(),
  status: z
    .string()
    .describe('Temporal execution status, lower case: running, completed, failed, cancelled, terminated, timed_out.'),
  current_step: z.enum(OPEN_PR_STEPS).nullable(),
  steps: z.array(stepView),
  result: z.unknown().describe('The workflow result when completed: {outcome, pr_url?, …}.'),
  failure: z.strictObject({ type: z.string(), message: z.string() }).nullable(),
  started_at: timestamp.nullable(),
  closed_at: timestamp.nullable(),
  web_ui_url: z.string().describe('This run in the Temporal Web UI.'),
  merge: z
    .strictObject({
      state: z.enum(MERGE_STATES),
      note: z.string().nullable(),
      workflow_id: z.string().describe('The wait, `merge:{proposal id}`, in the Web UI.'),
    })
    .nullable()
    .describe("Merge when green (the repo's `pr_options.merge`): where merging the PR stands, and why it ended."),
});

// Wire schema of GET /proposals/{id}/preview (docs/api.md "Preview").
import { z } from 'zod';
import type { PreviewResult } from '../../domain/preview-contracts.js';
import { RUN_FAILURE_CODES } from '../../domain/errors.js';
import type { JsonValue } from '../../domain/params-diff.js';
import { id } from './common.js';
import { prOptionsOut, toPrOptionsJson } from './config-repos.js';

const json = z.unknown() as z.ZodType<JsonValue | null>;

export const previewJson = z.strictObject({
  proposal_id: id,
  workflow_id: z.string().describe('The preview run, in the Temporal Web UI.'),
  branch: z.string(),
  base: z.string(),
  base_commit: z
    .string()
    .nullable()
    .describe('The base branch commit the change was made on; null when the sync would fail.'),
  adopts_commit: z
    .string()
    .nullable()
    .describe("The branch already holds this proposal's own commit (an earlier run's): the run would adopt it."),
  params_path: z.string().nullable(),
  diff: z.string().nullable().describe("The params file's change, as `git diff` prints it."),
  changes: z.array(
    z.strictObject({
      key: z.string(),
      from: json,
      to: json,
      file_value: json.describe('The value in the file now; null when the key is absent.'),
      drift: z.boolean().describe('`from` is not the value in the file (shown in the PR body, not refused).'),
      added: z.boolean(),
    }),
  ),
  title: z
    .string()
    .nullable()
    .describe('As it would be sent: after the length limit, redacted, with a forge draft marker.'),
  body: z.string().nullable().describe("As it would be sent: after GitHub's length limit, redacted."),
  chart: z
    .strictObject({
      path: z.string().describe('Where the commit would put it.'),
      media_type: z.literal('image/png'),
      png_base64: z.string(),
    })
    .nullable(),
  chart_note: z.string().nullable().describe('Why there is no chart (the body then has the importance table).'),
  pr_options: prOptionsOut,
  warnings: z.array(z.string()).describe('What the run would record: PR options the forge would refuse or leave out.'),
  supersedes: z
    .array(z.strictObject({ proposal_id: id, pr_number: z.number().int() }))
    .describe("Older proposals whose open PR the new one would close (the repo's `supersede` option)."),
  would_fail: z
    .strictObject({ code: z.enum(RUN_FAILURE_CODES), message: z.string(), step: z.string() })
    .nullable()
    .describe('The failure the run would hit, and at which step; the fields after that step are null.'),
});

export function toPreviewJson(r: PreviewResult, workflowId: string): z.input<typeof previewJson> {
  return {
    proposal_id: r.proposalId,
    workflow_id: workflowId,
    branch: r.branch,
    base: r.base,
    base_commit: r.baseCommit,
    adopts_commit: r.adoptsCommit,
    params_path: r.paramsPath,
    diff: r.diff,
    changes: r.changes.map((c) => ({
      key: c.key,
      from: c.from ?? null,
      to: c.to,
      file_value: c.fileValue ?? null,
      drift: c.drift,
      added: c.added,
    })),
    title: r.title,
    body: r.body,
    chart: r.chart && { path: r.chart.path, media_type: 'image/png' as const, png_base64: r.chart.pngBase64 },
    chart_note: r.chartNote,
    pr_options: toPrOptionsJson(r.prOptions),
    warnings: r.warnings,
    supersedes: r.supersedes.map((s) => ({ proposal_id: s.proposalId, pr_number: s.prNumber })),
    would_fail: r.wouldFail && {
      code: (RUN_FAILURE_CODES as readonly string[]).includes(r.wouldFail.code)
        ? (r.wouldFail.code as (typeof RUN_FAILURE_CODES)[number])
        : 'INTERNAL_ERROR',
      message: r.wouldFail.message,
      step: r.wouldFail.step,
    },
  };
}

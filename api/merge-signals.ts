// Webhooks → merge when green (docs/architecture.md "Merge when green"): a `check_run`,
// `check_suite` or `status` event, or a change of a PR's state, wakes the merge waits it concerns,
// which read the checks back themselves; the event's own content is never trusted beyond naming
// the PR. A signal that cannot be delivered is not an error: each wait reads back on its own.
import type { TemporalHandle } from '../adapters/temporal-client.js';
import { checksChangedSignal, mergeWorkflowId } from '../domain/merge-contracts.js';
import { isStorableText } from '../domain/storable-text.js';
import type { Logger } from '../runtime/logger.js';
import { signalIfRunning } from './routes/start-workflow.js';

export const CHECK_EVENTS = ['check_run', 'check_suite', 'status'] as const;

/** The PRs and branches a check event names (pull_requests of a run or suite, branches of a status). */
export function checkTargetsOf(event: string, payload: unknown): { prNumbers: number[]; branches: string[] } {
  const p = payload as Record<string, unknown>;
  const subject = (event === 'check_run' ? p.check_run : event === 'check_suite' ? p.check_suite : p) as
    Record<string, unknown> | undefined;
  const suite = event === 'check_run' ? (subject?.check_suite as Record<string, unknown> | undefined) : subject;
  const pulls = [
    ...(Array.isArray(subject?.pull_requests) ? subject.pull_requests : []),
    ...(Array.isArray(suite?.pull_requests) ? suite.pull_requests : []),
  ] as { number?: unknown }[];
  const prNumbers = pulls
    .map((x) => x?.number)
    .filter((n): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 2 ** 31);
  const names = [
    suite?.head_branch,
    ...(event === 'status' && Array.isArray(p.branches) ? p.branches.map((b: { name?: unknown }) => b?.name) : []),
  ];
  const branches = names.filter(
    (b): b is string => typeof b === 'string' && b.length > 0 && b.length <= 255 && isStorableText(b),
  );
  return { prNumbers: [...new Set(prNumbers)].slice(0, 100), branches: [...new Set(branches)].slice(0, 100) };
}

/** Wakes each proposal's merge wait (within GitHub's 10 s for the delivery); ids whose wait got the signal. */
export async function wakeMerges(
  deps: { temporal: TemporalHandle; logger: Logger },
  proposalIds: readonly string[],
): Promise<string[]> {
  const woken: string[] = [];
  for (const id of proposalIds)
    if (
      await signalIfRunning(
        deps,
        mergeWorkflowId(id),
        checksChangedSignal,
        [],
        'could not wake the merge wait; it reads the checks back itself',
        2_000,
      )
    )
      woken.push(id);
  return woken;
}

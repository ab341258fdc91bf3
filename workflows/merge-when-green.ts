// mergeWhenGreenWorkflow (docs/architecture.md "Merge when green"): merges a proposal's PR once the
// head commit's required checks pass. Started by the open-PR run as a child once the PR is open
// and the repo lock released, it waits durably — a Temporal timer and signals, for hours or days,
// holding nothing — instead of a polling loop in an activity:
// - where the repository allows GitHub's auto-merge, or the base branch requires a merge queue,
//   GitHub merges it; the workflow follows until it is merged, closed, or its checks fail;
// - otherwise it reads the head's checks whenever a webhook says they changed (`checksChanged`)
//   and at the read-back interval, and merges with the head as a guard once they pass.
// The head it started on is the only one it merges: a branch someone pushed to ends the wait
// (`head_moved`). A failed check, the timeout, a close, a supersede or a rejection end it too;
// each outcome is recorded on the proposal (`merge_state`, `merge_note`).
import { condition, isCancellation, log, setHandler } from '@temporalio/workflow';
import type { ConfigRepoRef } from '../activities/types.js';
import {
  checksChangedSignal,
  mergeRejectedSignal,
  mergeStateQuery,
  mergeSupersededSignal,
  type MergeInput,
  type MergeOutcome,
  type MergeState,
  type MergeView,
} from '../domain/merge-contracts.js';
import { DEFAULT_OPEN_PR_POLICY, type OpenPrPolicy } from '../domain/open-pr-contracts.js';
import { createStepProxies } from './activity-options.js';
import { describeFailure } from './open-pr-progress.js';

export interface MergeWorkflowInput extends MergeInput {
  repo: ConfigRepoRef;
  /** The loading worker's policy: the steps' timeouts, and the wait's own bounds. */
  policy: OpenPrPolicy;
}

export async function mergeWhenGreenWorkflow(input: MergeWorkflowInput): Promise<MergeOutcome> {
  const { repo, proposalId, prNumber, branch, method } = input;
  const checksTimeoutMs = input.policy.mergeChecksTimeoutMs ?? (DEFAULT_OPEN_PR_POLICY.mergeChecksTimeoutMs as number);
  const readBackMs = input.policy.mergeReadBackMs ?? (DEFAULT_OPEN_PR_POLICY.mergeReadBackMs as number);
  const { github, db } = createStepProxies(input.policy);
  let changed = false;
  let stop: { kind: 'rejected' | 'superseded'; note: string } | undefined;
  setHandler(checksChangedSignal, () => {
    changed = true;
  });
  setHandler(mergeRejectedSignal, (note) => {
    stop ??= { kind: 'rejected', note };
  });
  setHandler(mergeSupersededSignal, (note) => {
    stop ??= { kind: 'superseded', note };
  });
  const view: MergeView = { state: 'waiting', note: null, headSha: null, checks: [] };
  setHandler(mergeStateQuery, () => view);

  const record = async (state: MergeState, note: string | null) => {
    view.state = state;
    view.note = note;
    await db(`merge: record ${state}`).recordMergeState({ proposalId, state, note });
  };
  const finish = async (state: MergeState, note: string | null): Promise<MergeOutcome> => {
    await record(state, note);
    return { state, note };
  };

  // GitHub's own merge is an offer: when asking for it fails past its retries, the service waits itself.
  const started = await github(`merge: GitHub's auto-merge or merge queue for PR #${prNumber}`)
    .startGitHubMerge({ repo, prNumber, method })
    .catch((error: unknown) => {
      if (isCancellation(error)) throw error;
      return { mode: 'none' as const, reason: `asking GitHub failed: ${describeFailure(error)}` };
    });
  const mode = started.mode === 'none' ? 'waiting' : started.mode;
  /** Undoes GitHub's own merge before the wait ends without a merge. */
  const stopGitHubMerge = async () => {
    if (mode !== 'waiting')
      await github(`merge: stop ${mode === 'queued' ? 'the merge queue entry' : 'auto-merge'}`).stopGitHubMerge({
        repo,
        prNumber,
        mode,
      });
  };
  await record(mode, started.mode === 'none' ? `the service merges it when its checks pass (${started.reason})` : null);
  let head: string | null = input.headSha ?? (started.mode === 'none' ? null : started.headSha);
  const deadline = Date.now() + checksTimeoutMs;

  for (;;) {
    if (stop !== undefined) {
      await stopGitHubMerge();
      if (stop.kind === 'superseded') return await finish('closed', stop.note);
      // Rejected during the wait: the PR this proposal opened is closed, its branch deleted.
      await github(`merge: close PR #${prNumber} of the rejected proposal`).closePullRequest({
        repo,
        number: prNumber,
      });
      await github(`merge: delete branch ${branch}`).deleteBranch({ repo, branch });
      // Records the close on the proposal (pr_state), as a webhook would.
      await github(`merge: read PR #${prNumber} back`).readMergeStatus({ repo, prNumber });
      return await finish('cancelled', stop.note);
    }
    changed = false;
    // A read that fails past its retries (GitHub down for long) is tried again at the next wake-up.
    const status = await github(`merge: read the checks of PR #${prNumber}`)
      .readMergeStatus({ repo, prNumber })
      .catch((error: unknown) => {
        if (isCancellation(error)) throw error;
        log.warn('reading the checks failed; reading again later', { prNumber, error: describeFailure(error) });
        return null;
      });
    if (status === null) {
      if (Date.now() >= deadline) return await finish('timed_out', 'the checks could not be read from GitHub');
      await condition(() => changed || stop !== undefined, Math.min(readBackMs, deadline - Date.now()));
      continue;
    }
    view.headSha = status.pull.head.sha;
    view.checks = status.checks;
    if (status.pull.merged) return await finish('merged', null);
    if (status.pull.state === 'closed') return await finish('closed', `PR #${prNumber} was closed`);
    head ??= status.pull.head.sha;
    if (status.pull.head.sha !== head) {
      await stopGitHubMerge();
      return await finish(
        'head_moved',
        `branch ${branch} moved from ${head.slice(0, 12)} to ${status.pull.head.sha.slice(0, 12)}; only the proposal's own commit is merged`,
      );
    }
    if (status.verdict === 'failed') {
      await stopGitHubMerge();
      const failed = status.checks.filter((c) => c.state === 'failed').map((c) => c.name);
      return await finish('checks_failed', `failed: ${failed.join(', ')}`);
    }
    if (status.verdict === 'passed' && mode === 'waiting') {
      const merged = await github(`merge: merge PR #${prNumber} at ${head.slice(0, 12)}`).mergeAtHead({
        repo,
        proposalId,
        prNumber,
        sha: head,
        method,
      });
      if (merged.outcome === 'merged') return await finish('merged', null);
      if (merged.outcome === 'head_moved')
        return await finish('head_moved', `branch ${branch} moved after its checks passed; not merged`);
      return await finish('refused', merged.message);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      await stopGitHubMerge();
      const pending = status.checks.filter((c) => c.state === 'pending').map((c) => c.name);
      return await finish(
        'timed_out',
        pending.length > 0 ? `still pending: ${pending.join(', ')}` : 'no check was reported on the head',
      );
    }
    // A webhook wakes the wait at once; the read-back interval catches what webhooks missed.
    if (!changed && stop === undefined)
      await condition(() => changed || stop !== undefined, Math.min(readBackMs, left));
  }
}

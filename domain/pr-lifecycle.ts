// The life of a proposal's PR after it opened (docs/architecture.md "PR lifecycle"): what a GitHub `pull_request`
// webhook or a reconciliation read says about it, reduced to one observation — the PR's state and
// GitHub's own time for it. Pure, so the webhook route, the reconciliation activity and the tests
// share one reading.
//   Events: https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
import { z } from 'zod';
import { headBranchOf } from './forge.js';
import { isStorableText } from './storable-text.js';

export type PrState = 'open' | 'closed' | 'merged';

/** One fact about one PR: applied only when newer than what the proposal records (never backwards). */
export interface PrObservation {
  prNumber: number;
  /** The PR's head branch: a proposal owns a PR by number and branch together. */
  branch: string;
  state: PrState;
  /** GitHub's time of that state: merged_at for a merge, the PR's updated_at otherwise. */
  at: Date;
}

/** The `pull_request` actions that change pr_state; every other action is ignored. */
export const STATE_ACTIONS = ['closed', 'reopened'] as const;

const timestamp = z.iso.datetime({ offset: true });
/** A value that reaches the database (a query parameter or a stored column): text PostgreSQL can store. */
const storable = (max: number) =>
  z.string().min(1).max(max).refine(isStorableText, 'contains a NUL character or an unpaired surrogate');

/** What a `pull_request` payload must carry for us to act on it (GitHub sends much more). */
const pullRequestPayload = z.object({
  action: storable(64),
  number: z.number().int().positive(),
  pull_request: z.object({
    number: z.number().int().positive(),
    state: z.enum(['open', 'closed']),
    merged: z.boolean().nullable().optional(),
    merged_at: timestamp.nullable().optional(),
    updated_at: timestamp,
    head: z.object({
      ref: storable(255),
      label: z.string().nullable().optional(),
      repo: z.object({ full_name: z.string() }).nullable(),
    }),
  }),
  repository: z.object({ full_name: z.string() }),
});

export type PullRequestEvent =
  | { kind: 'observation'; action: string; observation: PrObservation }
  /** An action that does not change pr_state (opened, edited, labeled, …). */
  | { kind: 'ignored'; action: string }
  /** A PR whose head lives in another repository (a fork): never one of ours. */
  | { kind: 'foreign'; action: string; prNumber: number }
  /** Not what GitHub sends: a field is missing, of the wrong shape, or holds text we cannot store. */
  | { kind: 'malformed'; field: string; message: string };

/** Reads a `pull_request` payload. */
export function readPullRequestEvent(payload: unknown): PullRequestEvent {
  const parsed = pullRequestPayload.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['body', ...(issue?.path ?? []).map(String)].join('.');
    return {
      kind: 'malformed',
      field,
      message: `${field}: ${issue?.message ?? 'invalid'} (a pull_request payload carries action, number, pull_request.state, updated_at and head)`,
    };
  }
  const { action, pull_request: pr, repository } = parsed.data;
  if (!(STATE_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', action };
  if (pr.number !== parsed.data.number)
    return { kind: 'malformed', field: 'body.number', message: 'body.number differs from pull_request.number' };
  if (pr.head.repo?.full_name.toLowerCase() !== repository.full_name.toLowerCase())
    return { kind: 'foreign', action, prNumber: pr.number };
  // Gitea names a deleted head branch in `label` only (domain/forge.ts headBranchOf).
  const branch = headBranchOf(pr.head);
  if (branch !== pr.head.ref && !storable(255).safeParse(branch).success) {
    return {
      kind: 'malformed',
      field: 'body.pull_request.head.label',
      message: 'body.pull_request.head.label: not a branch name the database can store',
    };
  }
  return { kind: 'observation', action, observation: observationOf({ ...pr, head: { ref: branch } }) };
}

/** The observation of a PR as GitHub's REST API or a webhook shows it. */
export function observationOf(pr: {
  number: number;
  state: 'open' | 'closed';
  merged?: boolean | null | undefined;
  merged_at?: string | null | undefined;
  updated_at: string;
  head: { ref: string };
}): PrObservation {
  const merged = pr.merged === true || (pr.merged_at ?? null) !== null;
  return {
    prNumber: pr.number,
    branch: pr.head.ref,
    state: merged ? 'merged' : pr.state,
    // A merge is final, whatever else happened in the same second; its own time is merged_at.
    at: new Date(merged && pr.merged_at ? pr.merged_at : pr.updated_at),
  };
}

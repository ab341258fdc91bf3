// Checks on commits, as GitHub keeps them: commit statuses (POST /statuses/{sha}, the combined
// status of a ref) and check runs (created and updated by a CI App, listed per ref), the checks a
// branch's rules require, and the verdict auto-merge and the merge queue wait for.
//   https://docs.github.com/en/rest/commits/statuses · /checks/runs · /repos/rules#get-rules-for-a-branch
// The answers carry every field GitHub's published schemas require (checked by openapi.ts).
import { repoJson, userJson, type JsonContext } from './rest-json.js';

export type StatusState = 'error' | 'failure' | 'pending' | 'success';
export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion =
  'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | 'stale';

export interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: StatusState;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CheckRunRecord {
  id: number;
  sha: string;
  name: string;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  startedAt: string;
  completedAt: string | null;
  detailsUrl: string | null;
}

/** Per repository: what its commits carry, and what its branches require. */
export interface ChecksState {
  statuses: StatusRecord[];
  checkRuns: CheckRunRecord[];
  /** Branch → the check names (status contexts or check run names) its rules require. */
  required: Map<string, string[]>;
  /** Branches whose rules require a merge queue. */
  mergeQueues: Set<string>;
  /** The repository's "Allow auto-merge" setting. */
  autoMergeAllowed: boolean;
}

export function emptyChecksState(): ChecksState {
  return { statuses: [], checkRuns: [], required: new Map(), mergeQueues: new Set(), autoMergeAllowed: false };
}

/** A check's verdict: a completed run's conclusion, or a status's state. */
export type Verdict = 'pending' | 'passed' | 'failed';

const PASSING: readonly (CheckConclusion | null)[] = ['success', 'neutral', 'skipped'];

function latestBy<T extends { id: number }>(items: T[], key: (t: T) => string): Map<string, T> {
  const out = new Map<string, T>();
  for (const item of [...items].sort((a, b) => a.id - b.id)) out.set(key(item), item);
  return out;
}

/** Each check reported on `sha`, by name (the latest run of a name, the latest status of a context). */
export function checksOn(state: ChecksState, sha: string): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (const [context, s] of latestBy(
    state.statuses.filter((x) => x.sha === sha),
    (x) => x.context,
  ))
    out.set(context, s.state === 'success' ? 'passed' : s.state === 'pending' ? 'pending' : 'failed');
  for (const [name, run] of latestBy(
    state.checkRuns.filter((x) => x.sha === sha),
    (x) => x.name,
  ))
    out.set(name, run.status !== 'completed' ? 'pending' : PASSING.includes(run.conclusion) ? 'passed' : 'failed');
  return out;
}

/** Whether GitHub would let `sha` merge into `branch`: every required check passed. */
export function requiredChecksPass(state: ChecksState, branch: string, sha: string): boolean {
  const on = checksOn(state, sha);
  return (state.required.get(branch) ?? []).every((name) => on.get(name) === 'passed');
}

export function statusJson(ctx: JsonContext, s: StatusRecord): Record<string, unknown> {
  return {
    url: `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/statuses/${s.sha}`,
    avatar_url: null,
    id: s.id,
    node_id: `SC_${s.id}`,
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    creator: userJson(ctx, 'ci-bot', 70_001),
  };
}

/** GET /commits/{ref}/status: failure if any failed, pending if any pending or none, else success. */
export function combinedStatusJson(ctx: JsonContext, state: ChecksState, sha: string): Record<string, unknown> {
  const latest = [
    ...latestBy(
      state.statuses.filter((x) => x.sha === sha),
      (x) => x.context,
    ).values(),
  ];
  const combined = latest.some((s) => s.state === 'failure' || s.state === 'error')
    ? 'failure'
    : latest.length === 0 || latest.some((s) => s.state === 'pending')
      ? 'pending'
      : 'success';
  const base = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}`;
  return {
    state: combined,
    statuses: latest.map((s) => {
      const { creator: _creator, ...simple } = statusJson(ctx, s);
      return { ...simple, required: (state.required.get(ctx.repo.defaultBranch) ?? []).includes(s.context) };
    }),
    sha,
    total_count: latest.length,
    repository: minimalRepo(ctx),
    commit_url: `${base}/commits/${sha}`,
    url: `${base}/commits/${sha}/status`,
  };
}

/** The minimal-repository GitHub embeds in a combined status. */
function minimalRepo(ctx: JsonContext): Record<string, unknown> {
  const full = repoJson(ctx);
  const keep = [
    'id',
    'node_id',
    'name',
    'full_name',
    'owner',
    'private',
    'html_url',
    'description',
    'fork',
    'url',
    'archive_url',
    'assignees_url',
    'blobs_url',
    'branches_url',
    'collaborators_url',
    'comments_url',
    'commits_url',
    'compare_url',
    'contents_url',
    'contributors_url',
    'deployments_url',
    'downloads_url',
    'events_url',
    'forks_url',
    'git_commits_url',
    'git_refs_url',
    'git_tags_url',
    'issue_comment_url',
    'issue_events_url',
    'issues_url',
    'keys_url',
    'labels_url',
    'languages_url',
    'merges_url',
    'milestones_url',
    'notifications_url',
    'pulls_url',
    'releases_url',
    'stargazers_url',
    'statuses_url',
    'subscribers_url',
    'subscription_url',
    'tags_url',
    'teams_url',
    'trees_url',
    'hooks_url',
  ];
  return Object.fromEntries(keep.filter((k) => k in full).map((k) => [k, full[k]]));
}

export function checkRunJson(ctx: JsonContext, run: CheckRunRecord, pulls: PullRef[]): Record<string, unknown> {
  const base = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}`;
  return {
    id: run.id,
    head_sha: run.sha,
    node_id: `CR_${run.id}`,
    external_id: String(run.id),
    url: `${base}/check-runs/${run.id}`,
    html_url: `${ctx.origin}/${ctx.repo.owner}/${ctx.repo.repo}/runs/${run.id}`,
    details_url: run.detailsUrl ?? `${ctx.origin}/${ctx.repo.owner}/${ctx.repo.repo}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.conclusion === null ? null : `${run.name}: ${run.conclusion}`,
      summary: null,
      text: null,
      annotations_count: 0,
      annotations_url: `${base}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: 80_000 + run.id },
    app: null,
    pull_requests: pulls.map((p) => pullRefJson(ctx, p)),
  };
}

/** A pull request as check runs and suites name it. */
export interface PullRef {
  number: number;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
}

export function pullRefJson(ctx: JsonContext, p: PullRef): Record<string, unknown> {
  const base = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}`;
  const repo = { id: 1000, url: base, name: ctx.repo.repo };
  return {
    id: 3_000_000 + p.number,
    number: p.number,
    url: `${base}/pulls/${p.number}`,
    head: { ref: p.head.ref, sha: p.head.sha, repo },
    base: { ref: p.base.ref, sha: p.base.sha, repo },
  };
}

/** GET /rules/branches/{branch}: the required checks and the merge queue, as active rules. */
export function branchRulesJson(ctx: JsonContext, state: ChecksState, branch: string): Record<string, unknown>[] {
  const source = { ruleset_source_type: 'Repository', ruleset_source: `${ctx.repo.owner}/${ctx.repo.repo}` };
  const rules: Record<string, unknown>[] = [];
  const required = state.required.get(branch) ?? [];
  if (required.length > 0)
    rules.push({
      type: 'required_status_checks',
      parameters: {
        required_status_checks: required.map((context) => ({ context })),
        strict_required_status_checks_policy: false,
      },
      ...source,
      ruleset_id: 1,
    });
  if (state.mergeQueues.has(branch))
    rules.push({
      type: 'merge_queue',
      parameters: {
        check_response_timeout_minutes: 60,
        grouping_strategy: 'ALLGREEN',
        max_entries_to_build: 5,
        max_entries_to_merge: 5,
        merge_method: 'MERGE',
        min_entries_to_merge: 1,
        min_entries_to_merge_wait_minutes: 5,
      },
      ...source,
      ruleset_id: 2,
    });
  return rules;
}

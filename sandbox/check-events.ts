// `status` and `check_run` webhook payloads of the sandbox, built on GitHub's own example payloads
// (@octokit/webhooks-examples) with this repository, commit and check put in: every field GitHub
// sends is there, and the result passes the published schemas like every other delivery.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { checkRunJson, type CheckRunRecord, type PullRef, type StatusRecord } from './checks.js';
import { repoJson, type JsonContext } from './rest-json.js';

interface Example {
  name: string;
  examples: Record<string, unknown>[];
}

let examples: Example[] | undefined;
function exampleOf(event: string, action?: string): Record<string, unknown> {
  examples ??= JSON.parse(
    readFileSync(
      createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json'),
      'utf8',
    ),
  ) as Example[];
  const found = examples
    .find((e) => e.name === event)
    ?.examples.find((x) => action === undefined || x.action === action);
  if (found === undefined) throw new Error(`no GitHub example payload for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found);
}

/** A `status` event: a commit status was set on `sha`, whose branches are `branches`. */
export function statusEvent(
  ctx: JsonContext,
  s: StatusRecord,
  branches: { name: string; sha: string }[],
  sender: Record<string, unknown>,
): Record<string, unknown> {
  const payload = exampleOf('status');
  const commit = payload.commit as Record<string, unknown>;
  const base = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}`;
  Object.assign(commit, {
    sha: s.sha,
    url: `${base}/commits/${s.sha}`,
    html_url: `${ctx.origin}/${ctx.repo.owner}/${ctx.repo.repo}/commit/${s.sha}`,
    comments_url: `${base}/commits/${s.sha}/comments`,
  });
  return {
    ...payload,
    id: s.id,
    sha: s.sha,
    name: `${ctx.repo.owner}/${ctx.repo.repo}`,
    target_url: s.targetUrl,
    context: s.context,
    description: s.description,
    state: s.state,
    commit,
    branches: branches.map((b) => ({
      name: b.name,
      commit: { sha: b.sha, url: `${base}/commits/${b.sha}` },
      protected: false,
    })),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    repository: repoJson(ctx),
    sender,
  };
}

/** A `check_run` event (`created` or `completed`) for a run on the head of `pulls`. */
export function checkRunEvent(
  ctx: JsonContext,
  run: CheckRunRecord,
  pulls: PullRef[],
  action: 'created' | 'completed',
  sender: Record<string, unknown>,
): Record<string, unknown> {
  const payload = exampleOf('check_run', action);
  const example = payload.check_run as Record<string, unknown>;
  const ours = checkRunJson(ctx, run, pulls);
  const suite = {
    ...(example.check_suite as Record<string, unknown>),
    id: (ours.check_suite as { id: number }).id,
    head_branch: pulls[0]?.head.ref ?? null,
    head_sha: run.sha,
    status: run.status,
    conclusion: run.conclusion,
    url: `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/check-suites/${(ours.check_suite as { id: number }).id}`,
    after: run.sha,
    pull_requests: ours.pull_requests,
  };
  return {
    ...payload,
    action,
    check_run: { ...example, ...ours, app: example.app, check_suite: suite },
    repository: repoJson(ctx),
    sender,
  };
}

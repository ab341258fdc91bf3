// GitHub-shaped JSON for the sandbox's REST answers (the fields Octokit users read, plus the
// usual neighbours so the objects look like GitHub's).
import type { RepoRecord } from './repos.js';
import type { SandboxComment, SandboxPull, TokenPermissions } from './types.js';

/** `origin`: the web and git host; `api`: the REST base (`{origin}/api/v3`, or `https://api.{host}`). */
export interface JsonContext {
  origin: string;
  api: string;
  repo: RepoRecord;
}

export const DOCS = 'https://docs.github.com/rest';
const BOT = { login: 'relyloop-bot', id: 1, node_id: 'U_1', type: 'Bot', site_admin: false };

export function repoJson({ origin, api, repo }: JsonContext, grant?: TokenPermissions): Record<string, unknown> {
  const full = `${repo.owner}/${repo.repo}`;
  return {
    id: 1000,
    node_id: 'R_1000',
    name: repo.repo,
    full_name: full,
    private: true,
    owner: { login: repo.owner, id: 2, node_id: 'O_2', type: 'Organization', site_admin: false },
    html_url: `${origin}/${full}`,
    url: `${api}/repos/${full}`,
    clone_url: `${origin}/${full}.git`,
    default_branch: repo.defaultBranch,
    visibility: 'private',
    archived: false,
    disabled: false,
    fork: false,
    permissions: {
      admin: false,
      maintain: false,
      push: grant === undefined || grant.contents === 'write',
      triage: true,
      pull: true,
    },
  };
}

export function pullJson(ctx: JsonContext, pull: SandboxPull): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const side = (s: SandboxPull['head']) => ({
    label: s.label,
    ref: s.ref,
    sha: s.sha,
    user: { login: ctx.repo.owner },
    repo: repoJson(ctx),
  });
  return {
    url: `${api}/pulls/${pull.number}`,
    id: 5000 + pull.number,
    node_id: `PR_${pull.number}`,
    number: pull.number,
    html_url: `${ctx.origin}/${full}/pull/${pull.number}`,
    diff_url: `${ctx.origin}/${full}/pull/${pull.number}.diff`,
    issue_url: `${api}/issues/${pull.number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    state: pull.state,
    locked: false,
    title: pull.title,
    body: pull.body,
    user: BOT,
    draft: pull.draft,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at ?? null,
    merge_commit_sha: pull.merge_commit_sha ?? null,
    merged: pull.merged === true,
    mergeable: null,
    maintainer_can_modify: pull.maintainer_can_modify,
    head: side(pull.head),
    base: side(pull.base),
    author_association: 'NONE',
    labels: (pull.labels ?? []).map((name) => labelJson(ctx, name)),
    requested_reviewers: (pull.requested_reviewers ?? []).map(userJson),
    requested_teams: (pull.requested_teams ?? []).map((slug) => ({
      id: teamId(slug),
      node_id: `T_${teamId(slug)}`,
      slug,
      name: slug,
      privacy: 'closed',
      permission: 'push',
    })),
    assignees: (pull.assignees ?? []).map(userJson),
    assignee: pull.assignees?.[0] === undefined ? null : userJson(pull.assignees[0]),
  };
}

export function labelJson(ctx: JsonContext, name: string): Record<string, unknown> {
  const id = teamId(`label:${name}`);
  return {
    id,
    node_id: `LA_${id}`,
    url: `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    description: null,
  };
}

const userJson = (login: string) => ({
  login,
  id: teamId(`user:${login}`),
  node_id: `U_${teamId(`user:${login}`)}`,
  type: 'User',
  site_admin: false,
});

/** A stable small id for a name. */
function teamId(name: string): number {
  let h = 7;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 1_000_000;
  return 10_000 + h;
}

export function commentJson(ctx: JsonContext, issueNumber: number, comment: SandboxComment): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    body: comment.body,
    user: BOT,
    url: `${ctx.api}/repos/${full}/issues/comments/${comment.id}`,
    html_url: `${ctx.origin}/${full}/pull/${issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${ctx.api}/repos/${full}/issues/${issueNumber}`,
    created_at: comment.created_at,
    updated_at: comment.created_at,
    author_association: 'NONE',
  };
}

/** GitHub's 422 "Validation Failed" envelope. */
export function validationFailed(docs: string, errors: Record<string, string>[]): Record<string, unknown> {
  return { message: 'Validation Failed', errors, documentation_url: docs, status: '422' };
}

/** One page of `items` plus a Link header like GitHub's, from per_page/page query values. */
export function paginate<T>(
  items: T[],
  query: Record<string, string>,
  url: string,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(query.per_page ?? 30) || 30, 1), 100);
  const page = Math.max(Number(query.page ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (p: number, rel: string) => {
    const u = new URL(url);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : [];
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

/**
 * GitHub's length limits on what the product writes: a title of 256 characters, a body or a
 * comment of 65,536 ("body is too long (maximum is 65536 characters)", the 422 GitHub answers).
 * GitHub counts characters, not UTF-16 units, and stores line breaks as CRLF; the sandbox takes the
 * stricter reading and counts a bare LF as two.
 */
export const GITHUB_LIMITS = { title: 256, body: 65_536 } as const;

export function githubLength(text: string): number {
  return [...text.replace(/\r?\n/g, '\r\n')].length;
}

/** The 422 for a too-long field, or undefined. */
export function tooLong(
  docs: string,
  resource: string,
  fields: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const errors = Object.entries(fields).flatMap(([field, value]) => {
    const max = field === 'title' ? GITHUB_LIMITS.title : GITHUB_LIMITS.body;
    return typeof value === 'string' && githubLength(value) > max
      ? [{ resource, code: 'custom', field, message: `${field} is too long (maximum is ${max} characters)` }]
      : [];
  });
  return errors.length === 0 ? undefined : validationFailed(docs, errors);
}

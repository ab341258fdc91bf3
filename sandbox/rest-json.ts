// GitHub-shaped JSON for the sandbox's REST answers and webhook payloads: every field GitHub's
// published schemas require (the REST answers are checked against @octokit/openapi, the payloads
// against @octokit/webhooks-schemas), with the sandbox's values.
import type { RepoRecord } from './repos.js';
import type { SandboxComment, SandboxPull, TokenPermissions } from './types.js';

/** `origin`: the web and git host; `api`: the REST base (`{origin}/api/v3`, or `https://api.{host}`). */
export interface JsonContext {
  origin: string;
  api: string;
  repo: RepoRecord;
}

export const DOCS = 'https://docs.github.com/rest';
const EPOCH = '2026-01-01T00:00:00Z';
/** The person who acts on GitHub's web UI in the sandbox: merges, closes, reopens. */
export const SANDBOX_USER = { login: 'sandbox-user', id: 3 } as const;

/** The product's bot: the author of its PRs and comments. */
export function botJson(ctx: JsonContext): Record<string, unknown> {
  return userJson(ctx, 'relyloop-bot', 1, 'Bot');
}

const loginJson = (ctx: JsonContext, login: string) => userJson(ctx, login, stableId(`user:${login}`));

/** A user as GitHub's `simple-user` (REST) and its webhook user: every field both require. */
export function userJson(
  ctx: JsonContext,
  login: string,
  id: number,
  type: 'User' | 'Bot' | 'Organization' = 'User',
): Record<string, unknown> {
  const api = `${ctx.api}/users/${login}`;
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `${ctx.origin}/avatars/${login}`,
    gravatar_id: '',
    url: api,
    html_url: `${ctx.origin}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    site_admin: false,
  };
}

/**
 * A repository as GitHub's REST `repository` and its webhook repository; `grant` adds the
 * `permissions` a token's REST answers carry.
 */
export function repoJson(ctx: JsonContext, grant?: TokenPermissions): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const host = new URL(ctx.origin).host;
  return {
    id: 1000,
    node_id: 'R_1000',
    name: ctx.repo.repo,
    full_name: full,
    private: true,
    owner: userJson(ctx, ctx.repo.owner, 2, 'Organization'),
    html_url: `${ctx.origin}/${full}`,
    description: null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: EPOCH,
    updated_at: EPOCH,
    pushed_at: EPOCH,
    git_url: `git://${host}/${full}.git`,
    ssh_url: `git@${host}:${full}.git`,
    clone_url: `${ctx.origin}/${full}.git`,
    svn_url: `${ctx.origin}/${full}`,
    homepage: null,
    size: 1,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: ctx.repo.defaultBranch,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: 'private',
    custom_properties: {},
    // What a token reads of the repository itself (GitHub's `full-repository`).
    ...(grant === undefined
      ? {}
      : {
          has_discussions: false,
          network_count: 0,
          subscribers_count: 0,
          permissions: {
            admin: false,
            maintain: false,
            push: grant.contents === 'write',
            triage: true,
            pull: true,
          },
        }),
  };
}

/** A pull request as GitHub's REST `pull-request` and its webhook pull request. */
export function pullJson(ctx: JsonContext, pull: SandboxPull): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const html = `${ctx.origin}/${full}/pull/${pull.number}`;
  const repository = repoJson(ctx);
  const side = (s: SandboxPull['head']) => ({
    label: s.label,
    ref: s.ref,
    sha: s.sha,
    user: repository.owner,
    repo: repository,
  });
  const link = (href: string) => ({ href });
  return {
    url: `${api}/pulls/${pull.number}`,
    id: 5000 + pull.number,
    node_id: pullNodeId(ctx, pull),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: botJson(ctx),
    body: pull.body,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at ?? null,
    merge_commit_sha: pull.merge_commit_sha ?? null,
    assignee: pull.assignees?.[0] === undefined ? null : loginJson(ctx, pull.assignees[0]),
    assignees: (pull.assignees ?? []).map((login) => loginJson(ctx, login)),
    requested_reviewers: (pull.requested_reviewers ?? []).map((login) => loginJson(ctx, login)),
    requested_teams: (pull.requested_teams ?? []).map((slug) => teamJson(ctx, slug)),
    labels: (pull.labels ?? []).map((name) => labelJson(ctx, name)),
    milestone: null,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.head.sha}`,
    head: side(pull.head),
    base: side(pull.base),
    _links: {
      self: link(`${api}/pulls/${pull.number}`),
      html: link(html),
      issue: link(`${api}/issues/${pull.number}`),
      comments: link(`${api}/issues/${pull.number}/comments`),
      review_comments: link(`${api}/pulls/${pull.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${api}/pulls/${pull.number}/commits`),
      statuses: link(`${api}/statuses/${pull.head.sha}`),
    },
    author_association: 'NONE',
    auto_merge:
      pull.auto_merge == null
        ? null
        : {
            enabled_by: userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id),
            merge_method: pull.auto_merge.merge_method,
            commit_title: `${pull.title} (#${pull.number})`,
            commit_message: '',
          },
    active_lock_reason: null,
    draft: pull.draft,
    merged: pull.merged === true,
    mergeable: pull.state === 'open' ? true : null,
    rebaseable: pull.state === 'open' ? true : null,
    mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
    merged_by: pull.merged === true ? userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id) : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: pull.maintainer_can_modify,
    commits: 1,
    additions: 1,
    deletions: 1,
    changed_files: 1,
  };
}

/** A PR as the issue it also is (GitHub's `issue`), as the issue endpoints answer. */
export function issueJson(ctx: JsonContext, pull: SandboxPull): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const issue = `${api}/issues/${pull.number}`;
  const assignees = (pull.assignees ?? []).map((login) => loginJson(ctx, login));
  return {
    id: 5000 + pull.number,
    node_id: `I_${pull.number}`,
    url: issue,
    repository_url: api,
    labels_url: `${issue}/labels{/name}`,
    comments_url: `${issue}/comments`,
    events_url: `${issue}/events`,
    html_url: `${ctx.origin}/${full}/pull/${pull.number}`,
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    user: botJson(ctx),
    labels: (pull.labels ?? []).map((name) => labelJson(ctx, name)),
    assignee: assignees[0] ?? null,
    assignees,
    milestone: null,
    locked: false,
    comments: 0,
    pull_request: {
      url: `${api}/pulls/${pull.number}`,
      html_url: `${ctx.origin}/${full}/pull/${pull.number}`,
      diff_url: `${ctx.origin}/${full}/pull/${pull.number}.diff`,
      patch_url: `${ctx.origin}/${full}/pull/${pull.number}.patch`,
      merged_at: pull.merged_at ?? null,
    },
    closed_at: pull.closed_at,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    draft: pull.draft,
    author_association: 'NONE',
  };
}

export function labelJson(ctx: JsonContext, name: string): Record<string, unknown> {
  const id = stableId(`label:${name}`);
  return {
    id,
    node_id: `LA_${id}`,
    url: `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    // Some of GitHub's operations declare it a plain string (their label is not nullable there).
    description: '',
  };
}

function teamJson(ctx: JsonContext, slug: string): Record<string, unknown> {
  const id = stableId(slug);
  const url = `${ctx.api}/organizations/2/team/${id}`;
  return {
    id,
    node_id: `T_${id}`,
    url,
    html_url: `${ctx.origin}/orgs/${ctx.repo.owner}/teams/${slug}`,
    members_url: `${url}/members{/member}`,
    repositories_url: `${url}/repos`,
    slug,
    name: slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'push',
    parent: null,
    type: 'organization',
  };
}

/** A stable small id for a name. */
function stableId(name: string): number {
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
    user: botJson(ctx),
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

/** A PR's global node id: opaque to clients, unique across the sandbox's repositories. */
export function pullNodeId(ctx: JsonContext, pull: { number: number }): string {
  return `PR_${Buffer.from(`${ctx.repo.owner}/${ctx.repo.repo}#${pull.number}`).toString('base64url')}`;
}

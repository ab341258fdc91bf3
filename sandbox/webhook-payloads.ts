// Webhook payloads of the sandbox (issue 13), shaped as GitHub's: every field GitHub's published
// webhook schemas require for a repository, a user and a pull request, with the sandbox's values.
import type { JsonContext } from './rest-json.js';
import type { SandboxPull } from './types.js';

const EPOCH = '2026-01-01T00:00:00Z';

export function webhookUser(ctx: JsonContext, login: string, id: number, type: 'User' | 'Bot' | 'Organization' = 'User'): Record<string, unknown> {
  const api = `${ctx.api}/users/${login}`;
  return {
    login, id, node_id: `U_${id}`, avatar_url: `${ctx.origin}/avatars/${login}`, gravatar_id: '', url: api, html_url: `${ctx.origin}/${login}`,
    followers_url: `${api}/followers`, following_url: `${api}/following{/other_user}`, gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`, subscriptions_url: `${api}/subscriptions`, organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`, events_url: `${api}/events{/privacy}`, received_events_url: `${api}/received_events`, type, site_admin: false,
  };
}

export function webhookRepository(ctx: JsonContext): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const host = new URL(ctx.origin).host;
  return {
    id: 1000, node_id: 'R_1000', name: ctx.repo.repo, full_name: full, private: true,
    owner: webhookUser(ctx, ctx.repo.owner, 2, 'Organization'), html_url: `${ctx.origin}/${full}`, description: null, fork: false, url: api,
    forks_url: `${api}/forks`, keys_url: `${api}/keys{/key_id}`, collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`, hooks_url: `${api}/hooks`, issue_events_url: `${api}/issues/events{/number}`, events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`, branches_url: `${api}/branches{/branch}`, tags_url: `${api}/tags`, blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`, git_refs_url: `${api}/git/refs{/sha}`, trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`, languages_url: `${api}/languages`, stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`, subscribers_url: `${api}/subscribers`, subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`, git_commits_url: `${api}/git/commits{/sha}`, comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`, contents_url: `${api}/contents/{+path}`, compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`, archive_url: `${api}/{archive_format}{/ref}`, downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`, pulls_url: `${api}/pulls{/number}`, milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`, labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`, deployments_url: `${api}/deployments`,
    created_at: EPOCH, updated_at: EPOCH, pushed_at: EPOCH,
    git_url: `git://${host}/${full}.git`, ssh_url: `git@${host}:${full}.git`, clone_url: `${ctx.origin}/${full}.git`, svn_url: `${ctx.origin}/${full}`,
    homepage: null, size: 1, stargazers_count: 0, watchers_count: 0, language: null, has_issues: true, has_projects: false,
    has_downloads: true, has_wiki: false, has_pages: false, forks_count: 0, mirror_url: null, archived: false, open_issues_count: 0,
    license: null, forks: 0, open_issues: 0, watchers: 0, default_branch: ctx.repo.defaultBranch, is_template: false,
    web_commit_signoff_required: false, topics: [], visibility: 'private', custom_properties: {},
  };
}

export function webhookPullRequest(ctx: JsonContext, pull: SandboxPull, bot: Record<string, unknown>, mergedBy: Record<string, unknown> | null): Record<string, unknown> {
  const full = `${ctx.repo.owner}/${ctx.repo.repo}`;
  const api = `${ctx.api}/repos/${full}`;
  const html = `${ctx.origin}/${full}/pull/${pull.number}`;
  const repository = webhookRepository(ctx);
  const side = (s: SandboxPull['head']) => ({ label: s.label, ref: s.ref, sha: s.sha, user: repository.owner, repo: repository });
  const link = (href: string) => ({ href });
  return {
    url: `${api}/pulls/${pull.number}`, id: 5000 + pull.number, node_id: `PR_${pull.number}`, html_url: html,
    diff_url: `${html}.diff`, patch_url: `${html}.patch`, issue_url: `${api}/issues/${pull.number}`, number: pull.number,
    state: pull.state, locked: false, title: pull.title, user: bot, body: pull.body,
    created_at: pull.created_at, updated_at: pull.updated_at, closed_at: pull.closed_at, merged_at: pull.merged_at ?? null,
    merge_commit_sha: pull.merge_commit_sha ?? null, assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
    labels: [], milestone: null, commits_url: `${api}/pulls/${pull.number}/commits`, review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`, comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.head.sha}`, head: side(pull.head), base: side(pull.base),
    _links: {
      self: link(`${api}/pulls/${pull.number}`), html: link(html), issue: link(`${api}/issues/${pull.number}`),
      comments: link(`${api}/issues/${pull.number}/comments`), review_comments: link(`${api}/pulls/${pull.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`), commits: link(`${api}/pulls/${pull.number}/commits`),
      statuses: link(`${api}/statuses/${pull.head.sha}`),
    },
    author_association: 'NONE', auto_merge: null, active_lock_reason: null, draft: pull.draft,
    merged: pull.merged === true, mergeable: pull.state === 'open' ? true : null, rebaseable: pull.state === 'open' ? true : null,
    mergeable_state: pull.state === 'open' ? 'clean' : 'unknown', merged_by: pull.merged === true ? mergedBy : null,
    comments: 0, review_comments: 0, maintainer_can_modify: pull.maintainer_can_modify, commits: 1, additions: 1, deletions: 1, changed_files: 1,
  };
}

/** A `pull_request` event payload for `action` (opened, closed, reopened). */
export function pullRequestEvent(ctx: JsonContext, pull: SandboxPull, action: string, sender: Record<string, unknown>, bot: Record<string, unknown>): Record<string, unknown> {
  return { action, number: pull.number, pull_request: webhookPullRequest(ctx, pull, bot, sender), repository: webhookRepository(ctx), sender };
}

// The REST endpoints the product calls, under /api/v3 (Enterprise) or at the root of the
// api host (github.com), with
// GitHub's status codes and messages. Branch existence comes from the bare repo itself.
import { createHash } from 'node:crypto';
import { runGit } from './git-cli.js';
import type { SandboxClock } from './clock.js';
import { accessOf, notAccessible, satisfies, type Access, type Requirement } from './access.js';
import type { AppRegistry } from './apps.js';
import { GitData } from './git-data.js';
import { OpenApiValidator } from './openapi.js';
import type { RateLimiter } from './rate-limits.js';
import type { RepoRecord } from './repos.js';
import {
  DOCS,
  GITHUB_LIMITS,
  commentJson,
  githubLength,
  issueJson,
  labelJson,
  paginate,
  pullJson,
  pullNodeId,
  repoJson,
  SANDBOX_USER,
  userJson,
  tooLong,
  validationFailed,
  type JsonContext,
} from './rest-json.js';
import type { SandboxComment, SandboxPull, TokenPermissions } from './types.js';
import { pullRequestEvent } from './webhook-payloads.js';
import {
  branchRulesJson,
  checkRunJson,
  combinedStatusJson,
  emptyChecksState,
  requiredChecksPass,
  statusJson,
  type CheckConclusion,
  type CheckRunRecord,
  type CheckStatus,
  type ChecksState,
  type PullRef,
  type StatusState,
} from './checks.js';
import { checkRunEvent, statusEvent } from './check-events.js';

export interface RestRequest {
  method: string;
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}
export interface RestAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RepoState {
  nextNumber: number;
  pulls: Map<number, SandboxPull>;
  comments: Map<number, SandboxComment[]>;
  checks: ChecksState;
}
interface Call {
  req: RestRequest;
  ctx: JsonContext;
  state: RepoState;
  params: string[];
  json: Record<string, unknown>;
  grant: TokenPermissions;
  token: string;
}
interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  need: Requirement;
  contentCreating: boolean;
  run: (call: Call) => Promise<RestAnswer> | RestAnswer;
}

const SEG = '([^/]+)';
const route = (
  method: string,
  template: string,
  need: Requirement,
  run: Route['run'],
  contentCreating = false,
): Route => ({
  method,
  template,
  run,
  need,
  contentCreating,
  // {ref} may hold slashes (heads/relyloop/x) whether or not the client encoded them.
  pattern: new RegExp(`^${template.replace('{ref}', '(.+)').replace(/\{[a-z_]+\}/g, SEG)}$`),
});

export interface RestDeps {
  clock: SandboxClock;
  repos: Map<string, RepoRecord>;
  /** Tokens GitHub knows (any other is 401 Bad credentials). */
  knownTokens: Set<string>;
  limiter: RateLimiter;
  home: string;
  validationFailures: string[];
  answerFailures: string[];
  origin: () => string;
  /** The REST base URL clients use. */
  apiBase: () => string;
  /** GitHub Apps: JWT-authenticated endpoints and installation tokens (apps.ts). */
  apps: AppRegistry;
  /** Hands a webhook event of repo `owner/repo` to its hook, if any (webhooks.ts). */
  emit: (repo: string, event: string, payload: () => Record<string, unknown>) => void;
}

export class RestApi {
  private readonly states = new Map<string, RepoState>();
  private readonly validator = new OpenApiValidator();
  private nextCommentId = 90_001;
  private nextCheckId = 40_001;
  private readonly routes: Route[];
  readonly gitData: GitData;

  constructor(private readonly deps: RestDeps) {
    this.gitData = new GitData(deps.home, deps.clock);
    this.routes = [
      // Permissions per endpoint: https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps
      route('GET', '/repos/{owner}/{repo}', 'metadata', ({ ctx, grant }) => ({
        status: 200,
        body: repoJson(ctx, grant),
      })),
      route('POST', '/repos/{owner}/{repo}/pulls', { pull_requests: 'write' }, (c) => this.createPull(c), true),
      route('GET', '/repos/{owner}/{repo}/pulls', { pull_requests: 'read' }, (c) => this.listPulls(c)),
      route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', { pull_requests: 'read' }, (c) => this.getPull(c)),
      route('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', { pull_requests: 'write' }, (c) =>
        this.updatePull(c),
      ),
      // Checks answered 204 yes / 404 no, for a preview of the PR options: a collaborator may be
      // asked for a review and assigned.
      route('GET', '/repos/{owner}/{repo}/collaborators/{username}', 'metadata', isCollaborator),
      route(
        'GET',
        '/repos/{owner}/{repo}/assignees/{assignee}',
        { issues: 'read', pull_requests: 'read' },
        isCollaborator,
      ),
      route('PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', { contents: 'write' }, (c) => this.mergePull(c)),
      // Checks: commit statuses, check runs, and the rules that require them.
      route('POST', '/repos/{owner}/{repo}/statuses/{sha}', { statuses: 'write' }, (c) => this.createStatus(c)),
      route(
        'GET',
        '/repos/{owner}/{repo}/commits/{ref}/status',
        { statuses: 'read' },
        this.atCommit(({ ctx, state }, sha) => ({ status: 200, body: combinedStatusJson(ctx, state.checks, sha) })),
      ),
      route('POST', '/repos/{owner}/{repo}/check-runs', { checks: 'write' }, (c) => this.createCheckRun(c)),
      route('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', { checks: 'write' }, (c) =>
        this.updateCheckRun(c),
      ),
      route(
        'GET',
        '/repos/{owner}/{repo}/commits/{ref}/check-runs',
        { checks: 'read' },
        this.atCommit(({ ctx, state }, sha) => {
          const runs = state.checks.checkRuns.filter((r) => r.sha === sha).sort((a, b) => b.id - a.id);
          const pulls = this.pullsAt(state, sha);
          return {
            status: 200,
            body: { total_count: runs.length, check_runs: runs.map((r) => checkRunJson(ctx, r, pulls)) },
          };
        }),
      ),
      route('GET', '/repos/{owner}/{repo}/rules/branches/{branch}', 'metadata', ({ ctx, state, params }) => ({
        status: 200,
        body: branchRulesJson(ctx, state.checks, params[0] ?? ''),
      })),
      route('POST', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', { pull_requests: 'write' }, (c) =>
        this.requestReviewers(c),
      ),
      route(
        'POST',
        '/repos/{owner}/{repo}/issues/{issue_number}/labels',
        { issues: 'write', pull_requests: 'write' },
        (c) => this.addLabels(c),
      ),
      route(
        'POST',
        '/repos/{owner}/{repo}/issues/{issue_number}/assignees',
        { issues: 'write', pull_requests: 'write' },
        (c) => this.addAssignees(c),
      ),
      // A pull request's conversation is an issue: issues or pull_requests write may comment.
      route(
        'POST',
        '/repos/{owner}/{repo}/issues/{issue_number}/comments',
        { issues: 'write', pull_requests: 'write' },
        (c) => this.createComment(c),
        true,
      ),
      route(
        'GET',
        '/repos/{owner}/{repo}/issues/{issue_number}/comments',
        { issues: 'read', pull_requests: 'read' },
        (c) => this.listComments(c),
      ),
      route('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', { contents: 'write' }, (c) => this.deleteRef(c)),
      // Git Data: a commit GitHub builds, and signs.
      route('POST', '/repos/{owner}/{repo}/git/blobs', { contents: 'write' }, ({ ctx, json }) =>
        this.gitData.createBlob(ctx.repo, json, ctx.api),
      ),
      route('POST', '/repos/{owner}/{repo}/git/trees', { contents: 'write' }, ({ ctx, json }) =>
        this.gitData.createTree(ctx.repo, json, ctx.api),
      ),
      route('POST', '/repos/{owner}/{repo}/git/commits', { contents: 'write' }, ({ ctx, json, token }) =>
        this.gitData.createCommit(ctx.repo, json, ctx.api, this.deps.apps.actorOf(token)),
      ),
      route('GET', '/repos/{owner}/{repo}/git/commits/{commit_sha}', { contents: 'read' }, ({ ctx, params }) =>
        this.gitData.getCommit(ctx.repo, params[0] ?? '', ctx.api),
      ),
      route('POST', '/repos/{owner}/{repo}/git/refs', { contents: 'write' }, ({ ctx, json }) =>
        this.gitData.createRef(ctx.repo, json, ctx.api),
      ),
      route('GET', '/repos/{owner}/{repo}/git/ref/{ref}', { contents: 'read' }, ({ ctx, params }) =>
        this.gitData.getRef(ctx.repo, params[0] ?? '', ctx.api),
      ),
    ];
  }

  resetRepo(owner: string, repo: string): void {
    this.states.set(`${owner}/${repo}`, {
      nextNumber: 1,
      pulls: new Map(),
      comments: new Map(),
      checks: emptyChecksState(),
    });
  }

  pulls(owner: string, repo: string): SandboxPull[] {
    return [...(this.states.get(`${owner}/${repo}`)?.pulls.values() ?? [])].map((p) => structuredClone(p));
  }

  comments(owner: string, repo: string, issueNumber: number): SandboxComment[] {
    return (this.states.get(`${owner}/${repo}`)?.comments.get(issueNumber) ?? []).map((c) => ({ ...c }));
  }

  /** Comments already on a PR (fixtures: posting them through the API would meet the rate limits). */
  seedComments(owner: string, repo: string, issueNumber: number, bodies: string[]): void {
    const state = this.states.get(`${owner}/${repo}`);
    if (state?.pulls.has(issueNumber) !== true) throw new Error(`no sandbox PR ${owner}/${repo}#${issueNumber}`);
    const added = bodies.map((body) => ({ id: this.nextCommentId++, body, created_at: this.deps.clock.iso() }));
    state.comments.set(issueNumber, [...(state.comments.get(issueNumber) ?? []), ...added]);
  }

  async handle(req: RestRequest): Promise<RestAnswer> {
    this.deps.apps.sweep();
    const app = this.deps.apps.handle(req.method, req.pathname, req.headers.authorization);
    if (app !== undefined) {
      const template =
        req.method === 'POST'
          ? '/app/installations/{installation_id}/access_tokens'
          : '/repos/{owner}/{repo}/installation';
      const errors = this.validator.check(req.method, template, req.query, req.body);
      if (errors.length > 0) {
        this.deps.validationFailures.push(`${req.method} ${template}: ${errors.join('; ')}`);
        return {
          status: 422,
          body: { message: `Invalid request.\n\n${errors.join('\n')}`, documentation_url: DOCS, status: '422' },
        };
      }
      this.checkAnswer(req.method, template, app);
      return app;
    }
    const found = this.routes
      .map((r) => ({ r, m: r.pattern.exec(req.pathname) }))
      .find((x) => x.m !== null && x.r.method === req.method);
    if (found?.m == null)
      return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    const answer = await this.routed(req, found.r, found.m);
    this.checkAnswer(req.method, found.r.template, answer);
    return answer;
  }

  private async routed(req: RestRequest, route: Route, match: RegExpExecArray): Promise<RestAnswer> {
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined)
      return { status: 401, body: { message: 'Requires authentication', documentation_url: DOCS, status: '401' } };
    const key = `${params[0]}/${params[1]}`;
    const access = accessOf(this.deps.repos, this.deps.knownTokens, key, token);
    if (access.kind === 'unknown_token') return badCredentials();
    const verdict = this.deps.limiter.admit(token, req.method, route.contentCreating);
    let status: number | undefined;
    try {
      if (verdict.refusal !== undefined)
        return { ...verdict.refusal, headers: { ...verdict.headers, ...verdict.refusal.headers } };
      const answer = await this.answer(req, route, params, key, token, access);
      status = answer.status;
      return { ...answer, headers: { ...verdict.headers, ...answer.headers } };
    } finally {
      verdict.done(status);
    }
  }

  /** GitHub's published response schema for the answer; a mismatch fails the test like a bad request. */
  private checkAnswer(method: string, template: string, answer: RestAnswer): void {
    const errors = this.validator.checkResponse(method, template, answer.status, answer.body);
    if (errors.length > 0)
      this.deps.answerFailures.push(`${answer.status} to ${method} ${template}: ${errors.join('; ')}`);
  }

  private async answer(
    req: RestRequest,
    r: Route,
    params: string[],
    key: string,
    token: string,
    access: Access,
  ): Promise<RestAnswer> {
    const docs = `${DOCS}/${r.template.split('/')[3] ?? 'repos'}`;
    const repo = this.deps.repos.get(key);
    const state = this.states.get(key);
    // A repo the token cannot see does not exist for it (GitHub never says 403 here).
    if (access.kind !== 'granted' || repo === undefined || state === undefined) return notFound();
    if (!satisfies(access.grant, r.need)) return notAccessible(token, docs);
    const errors = this.validator.check(req.method, r.template, req.query, req.body);
    if (errors.length > 0) {
      this.deps.validationFailures.push(`${req.method} ${r.template}: ${errors.join('; ')}`);
      return {
        status: 422,
        body: { message: `Invalid request.\n\n${errors.join('\n')}`, documentation_url: DOCS, status: '422' },
      };
    }
    const json = req.body.trim() === '' ? {} : (JSON.parse(req.body) as Record<string, unknown>);
    return r.run({
      req,
      ctx: { origin: this.deps.origin(), api: this.deps.apiBase(), repo },
      state,
      params: params.slice(2),
      json,
      grant: access.grant,
      token,
    });
  }

  private async createPull({ ctx, state, json }: Call): Promise<RestAnswer> {
    const docs = `${DOCS}/pulls/pulls#create-a-pull-request`;
    const rawHead = String(json.head);
    const base = String(json.base);
    if (typeof json.title !== 'string')
      return {
        status: 422,
        body: validationFailed(docs, [{ resource: 'Issue', field: 'title', code: 'missing_field' }]),
      };
    const long = tooLong(docs, 'Issue', { title: json.title, body: json.body });
    if (long !== undefined) return { status: 422, body: long };
    const colon = rawHead.indexOf(':');
    const headOwner = colon === -1 ? ctx.repo.owner : rawHead.slice(0, colon);
    const head = colon === -1 ? rawHead : rawHead.slice(colon + 1);
    // Right after a push GitHub's API may not see the new branch yet (an eventually consistent
    // replica): the same 422 as for a branch that does not exist.
    const lagging = this.deps.clock.now() - ctx.repo.lastPushAt < ctx.repo.consistencyLagMs;
    const headSha = headOwner === ctx.repo.owner && !lagging ? await this.branchSha(ctx.repo, head) : null;
    const baseSha = await this.branchSha(ctx.repo, base);
    const invalid = [...(headSha === null ? ['head'] : []), ...(baseSha === null ? ['base'] : [])];
    if (invalid.length > 0)
      return {
        status: 422,
        body: validationFailed(
          docs,
          invalid.map((field) => ({ resource: 'PullRequest', field, code: 'invalid' })),
        ),
      };
    if ([...state.pulls.values()].some((p) => p.state === 'open' && p.head.ref === head)) {
      const message = `A pull request already exists for ${ctx.repo.owner}:${head}.`;
      return { status: 422, body: validationFailed(docs, [{ resource: 'PullRequest', code: 'custom', message }]) };
    }
    if (await this.isAncestor(ctx.repo, headSha as string, baseSha as string)) {
      return {
        status: 422,
        body: validationFailed(docs, [
          { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` },
        ]),
      };
    }
    const now = this.deps.clock.iso();
    const pull: SandboxPull = {
      number: state.nextNumber++,
      state: 'open',
      title: json.title,
      body: typeof json.body === 'string' ? json.body : null,
      head: { ref: head, sha: headSha as string, label: `${ctx.repo.owner}:${head}` },
      base: { ref: base, sha: baseSha as string, label: `${ctx.repo.owner}:${base}` },
      draft: json.draft === true,
      maintainer_can_modify: json.maintainer_can_modify === true,
      created_at: now,
      updated_at: now,
      closed_at: null,
    };
    state.pulls.set(pull.number, pull);
    this.emitPull(ctx, pull, 'opened');
    return {
      status: 201,
      body: pullJson(ctx, pull),
      headers: { location: `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/pulls/${pull.number}` },
    };
  }

  private async listPulls({ ctx, state, req }: Call): Promise<RestAnswer> {
    for (const pull of state.pulls.values()) await this.followHead(ctx, pull);
    const wanted = req.query.state ?? 'open';
    // GitHub only applies `head` in the `owner:branch` form; a bare branch name filters nothing.
    const head = req.query.head?.includes(':') === true ? req.query.head : undefined;
    const items = [...state.pulls.values()]
      .filter((p) => wanted === 'all' || p.state === wanted)
      .filter((p) => head === undefined || p.head.label === head)
      .filter((p) => req.query.base === undefined || p.base.ref === req.query.base)
      .sort((a, b) => (req.query.direction === 'asc' ? a.number - b.number : b.number - a.number));
    const url = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/pulls?${new URLSearchParams(req.query).toString()}`;
    const { page, headers } = paginate(items, req.query, url);
    return { status: 200, body: page.map((p) => pullJson(ctx, p)), headers };
  }

  /** With GitHub's conditional requests: the ETag of the answer; If-None-Match holding it gets a bodiless 304. */
  private async getPull({ req, ctx, state, params }: Call): Promise<RestAnswer> {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    await this.followHead(ctx, pull);
    const body = pullJson(ctx, pull);
    const etag = `W/"${createHash('sha256').update(JSON.stringify(body)).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) return { status: 304, body: undefined, headers: { etag } };
    return { status: 200, body, headers: { etag } };
  }

  private async updatePull({ ctx, state, params, json }: Call): Promise<RestAnswer> {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    await this.followHead(ctx, pull);
    const long = tooLong(`${DOCS}/pulls/pulls#update-a-pull-request`, 'Issue', { title: json.title, body: json.body });
    if (long !== undefined) return { status: 422, body: long };
    if (typeof json.base === 'string') {
      const sha = await this.branchSha(ctx.repo, json.base);
      if (sha === null)
        return {
          status: 422,
          body: validationFailed(`${DOCS}/pulls/pulls#update-a-pull-request`, [
            { resource: 'PullRequest', field: 'base', code: 'invalid' },
          ]),
        };
      pull.base = { ref: json.base, sha, label: `${ctx.repo.owner}:${json.base}` };
    }
    if (typeof json.title === 'string') pull.title = json.title;
    if (typeof json.body === 'string') pull.body = json.body;
    if (typeof json.maintainer_can_modify === 'boolean') pull.maintainer_can_modify = json.maintainer_can_modify;
    if (json.state === 'open' && pull.merged === true) {
      return {
        status: 422,
        body: validationFailed(`${DOCS}/pulls/pulls#update-a-pull-request`, [
          {
            resource: 'PullRequest',
            code: 'custom',
            field: 'state',
            message: 'state cannot be changed. The pull request cannot be reopened after it was merged.',
          },
        ]),
      };
    }
    pull.updated_at = this.deps.clock.iso();
    if (json.state === 'closed' && pull.state === 'open') {
      Object.assign(pull, { state: 'closed', closed_at: pull.updated_at });
      this.emitPull(ctx, pull, 'closed');
    }
    if (json.state === 'open' && pull.state === 'closed') {
      Object.assign(pull, { state: 'open', closed_at: null });
      this.emitPull(ctx, pull, 'reopened');
    }
    return { status: 200, body: pullJson(ctx, pull) };
  }

  /**
   * PUT …/pulls/{n}/merge: a real merge in the bare repo — `git merge-tree --write-tree` of base and
   * head, a merge commit (or one squashed commit), and the base ref moved only from the tip the
   * merge was computed on — with GitHub's answers: 405 not mergeable (closed, conflict, rebase
   * disabled), 409 when `sha` is not the head or the base moved meanwhile.
   */
  private async mergePull({ ctx, state, params, json }: Call): Promise<RestAnswer> {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    return this.mergeNow(ctx, pull, json);
  }

  /** Merges `pull` as `PUT …/merge` with `json` would (auto-merge and the merge queue call it too). */
  private async mergeNow(ctx: JsonContext, pull: SandboxPull, json: Record<string, unknown>): Promise<RestAnswer> {
    const docs = `${DOCS}/pulls/pulls#merge-a-pull-request`;
    const notMergeable = (message = 'Pull Request is not mergeable') => ({
      status: 405,
      body: { message, documentation_url: docs, status: '405' },
    });
    if (pull.state !== 'open') return notMergeable();
    const method = typeof json.merge_method === 'string' ? json.merge_method : 'merge';
    if (method === 'rebase') return notMergeable('Rebase merges are not allowed on this repository.');
    const head = await this.branchSha(ctx.repo, pull.head.ref);
    const base = await this.branchSha(ctx.repo, pull.base.ref);
    if (head === null || base === null) return notMergeable();
    if (typeof json.sha === 'string' && json.sha !== head)
      return {
        status: 409,
        body: {
          message: 'Head branch was modified. Review and try the merge again.',
          documentation_url: docs,
          status: '409',
        },
      };
    const git = { cwd: ctx.repo.bareDir, home: this.deps.home };
    const merged = await runGit(['merge-tree', '--write-tree', base, head], git);
    if (merged.code !== 0) return notMergeable('Merge conflict');
    const tree = merged.stdout.toString('utf8').split('\n')[0]?.trim() ?? '';
    const title =
      typeof json.commit_title === 'string'
        ? json.commit_title
        : method === 'squash'
          ? `${pull.title} (#${pull.number})`
          : `Merge pull request #${pull.number} from ${ctx.repo.owner}/${pull.head.ref}`;
    const message = `${title}\n\n${typeof json.commit_message === 'string' ? json.commit_message : pull.title}\n`;
    const parents = method === 'squash' ? ['-p', base] : ['-p', base, '-p', head];
    const now = this.deps.clock.now();
    const ident = {
      GIT_AUTHOR_DATE: `${Math.floor(now / 1000)} +0000`,
      GIT_COMMITTER_DATE: `${Math.floor(now / 1000)} +0000`,
    };
    const commit = await runGit(['commit-tree', tree, ...parents], { ...git, input: message, extraEnv: ident });
    if (commit.code !== 0) throw new Error(`git commit-tree failed: ${commit.stderr.trim()}`);
    const sha = commit.stdout.toString('utf8').trim();
    // Moved only from the tip the merge was computed on, like GitHub's atomic ref update.
    const moved = await runGit(['update-ref', `refs/heads/${pull.base.ref}`, sha, base], git);
    if (moved.code !== 0)
      return {
        status: 409,
        body: {
          message: 'Base branch was modified. Review and try the merge again.',
          documentation_url: docs,
          status: '409',
        },
      };
    const at = this.deps.clock.iso();
    Object.assign(pull, {
      state: 'closed',
      merged: true,
      merged_at: at,
      closed_at: at,
      updated_at: at,
      merge_commit_sha: sha,
      auto_merge: null,
      queued: false,
    });
    this.emitPull(ctx, pull, 'closed');
    return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } };
  }

  /** Labels GitHub does not know yet are created on the fly; the answer is every label of the issue. */
  private addLabels({ ctx, state, params, json }: Call): RestAnswer {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    const wanted = Array.isArray(json.labels)
      ? json.labels.map((l) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name)))
      : [];
    const have = pull.labels ?? [];
    pull.labels = [...have, ...wanted.filter((w) => !have.some((h) => h.toLowerCase() === w.toLowerCase()))];
    return { status: 200, body: pull.labels.map((name) => labelJson(ctx, name)) };
  }

  /** Reviews only from collaborators and the repo's teams, never from the PR's author (GitHub's 422s). */
  private requestReviewers({ ctx, state, params, json }: Call): RestAnswer {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    const docs = `${DOCS}/pulls/review-requests#request-reviewers-for-a-pull-request`;
    const users = Array.isArray(json.reviewers) ? json.reviewers.map(String) : [];
    const teams = Array.isArray(json.team_reviewers) ? json.team_reviewers.map(String) : [];
    if (users.some((u) => u.toLowerCase() === 'relyloop-bot')) {
      return {
        status: 422,
        body: validationFailed(docs, [
          { resource: 'PullRequest', code: 'custom', message: 'Review cannot be requested from pull request author.' },
        ]),
      };
    }
    if (
      users.some((u) => !ctx.repo.collaborators.has(u.toLowerCase())) ||
      teams.some((t) => !ctx.repo.teams.has(t.toLowerCase()))
    ) {
      const message = `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${ctx.repo.owner}/${ctx.repo.repo} repository.`;
      return { status: 422, body: { message, documentation_url: docs, status: '422' } };
    }
    const add = (have: string[] | undefined, more: string[]) => [
      ...(have ?? []),
      ...more.filter((m) => !(have ?? []).some((h) => h.toLowerCase() === m.toLowerCase())),
    ];
    pull.requested_reviewers = add(pull.requested_reviewers, users);
    pull.requested_teams = add(pull.requested_teams, teams);
    return { status: 201, body: pullJson(ctx, pull) };
  }

  /** GitHub silently leaves out users who cannot be assigned (no access to the repo). */
  private addAssignees({ ctx, state, params, json }: Call): RestAnswer {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    const wanted = Array.isArray(json.assignees)
      ? json.assignees.map(String).filter((a) => ctx.repo.collaborators.has(a.toLowerCase()))
      : [];
    const have = pull.assignees ?? [];
    pull.assignees = [...have, ...wanted.filter((w) => !have.some((h) => h.toLowerCase() === w.toLowerCase()))].slice(
      0,
      10,
    );
    return { status: 201, body: issueJson(ctx, pull) };
  }

  private emitPull(ctx: JsonContext, pull: SandboxPull, action: 'opened' | 'closed' | 'reopened'): void {
    // The PR as it is now: the payload is built later, and only for a repo with a hook.
    const snapshot = structuredClone(pull);
    this.deps.emit(`${ctx.repo.owner}/${ctx.repo.repo}`, 'pull_request', () =>
      pullRequestEvent(ctx, snapshot, action, userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id)),
    );
  }

  private createComment({ ctx, state, params, json }: Call): RestAnswer {
    const issueNumber = Number(params[0]);
    if (!state.pulls.has(issueNumber)) return notFound();
    if (githubLength(String(json.body)) > GITHUB_LIMITS.body) {
      return {
        status: 422,
        body: validationFailed(`${DOCS}/issues/comments#create-an-issue-comment`, [
          {
            resource: 'IssueComment',
            code: 'unprocessable',
            field: 'data',
            message: `Body is too long (maximum is ${GITHUB_LIMITS.body} characters)`,
          },
        ]),
      };
    }
    const comment: SandboxComment = {
      id: this.nextCommentId++,
      body: String(json.body),
      created_at: this.deps.clock.iso(),
    };
    state.comments.set(issueNumber, [...(state.comments.get(issueNumber) ?? []), comment]);
    return { status: 201, body: commentJson(ctx, issueNumber, comment) };
  }

  private listComments({ ctx, state, params, req }: Call): RestAnswer {
    const issueNumber = Number(params[0]);
    if (!state.pulls.has(issueNumber)) return notFound();
    const since = req.query.since === undefined ? undefined : Date.parse(req.query.since);
    const items = (state.comments.get(issueNumber) ?? []).filter(
      (c) => since === undefined || Date.parse(c.created_at) >= since,
    );
    const url = `${ctx.api}/repos/${ctx.repo.owner}/${ctx.repo.repo}/issues/${issueNumber}/comments`;
    const { page, headers } = paginate(items, req.query, url);
    return { status: 200, body: page.map((c) => commentJson(ctx, issueNumber, c)), headers };
  }

  private async deleteRef({ ctx, state, params }: Call): Promise<RestAnswer> {
    const ref = params[0] ?? '';
    const gone = {
      status: 422,
      body: {
        message: 'Reference does not exist',
        documentation_url: `${DOCS}/git/refs#delete-a-reference`,
        status: '422',
      },
    };
    if (!/^(heads|tags)\//.test(ref) || ref.split('/').some((s) => s === '' || s === '..')) return gone;
    const sha = await this.refSha(ctx.repo, `refs/${ref}`);
    if (sha === null) return gone;
    // Deleting with the old value refuses a ref that moved meanwhile, like GitHub's atomic update.
    const deleted = await runGit(['update-ref', '-d', `refs/${ref}`, sha], {
      cwd: ctx.repo.bareDir,
      home: this.deps.home,
    });
    if (deleted.code !== 0)
      return {
        status: 422,
        body: {
          message: `Reference update failed: ${deleted.stderr.trim()}`,
          documentation_url: `${DOCS}/git/refs#delete-a-reference`,
          status: '422',
        },
      };
    // GitHub closes open pull requests whose head branch is deleted.
    for (const pull of state.pulls.values()) {
      if (pull.state === 'open' && `heads/${pull.head.ref}` === ref) {
        const now = this.deps.clock.iso();
        Object.assign(pull, { state: 'closed', closed_at: now, updated_at: now });
        this.emitPull(ctx, pull, 'closed');
      }
    }
    return { status: 204 };
  }

  /** A GET about the commit `{ref}` names (a sha, or a branch's tip); 404 for a branch that does not exist. */
  private atCommit(answer: (call: Call, sha: string) => RestAnswer): (call: Call) => Promise<RestAnswer> {
    return async (call) => {
      const ref = call.params[0] ?? '';
      const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await this.branchSha(call.ctx.repo, ref);
      return sha === null ? notFound() : answer(call, sha);
    };
  }

  /** The open PRs whose head is `sha`, as check runs name them. */
  private pullsAt(state: RepoState, sha: string): PullRef[] {
    return [...state.pulls.values()]
      .filter((p) => p.state === 'open' && p.head.sha === sha)
      .map((p) => ({ number: p.number, head: p.head, base: p.base }));
  }

  private async createStatus({ ctx, state, params, json }: Call): Promise<RestAnswer> {
    const sha = params[0] ?? '';
    if (!/^[0-9a-f]{40}$/.test(sha) || (await this.resolveCommit(ctx.repo, sha)) === null)
      return {
        status: 422,
        body: validationFailed(`${DOCS}/commits/statuses#create-a-commit-status`, [
          { resource: 'Status', field: 'sha', code: 'invalid' },
        ]),
      };
    const now = this.deps.clock.iso();
    const record = {
      id: this.nextCheckId++,
      sha,
      context: typeof json.context === 'string' ? json.context : 'default',
      state: json.state as StatusState,
      description: typeof json.description === 'string' ? json.description : null,
      targetUrl: typeof json.target_url === 'string' ? json.target_url : null,
      createdAt: now,
      updatedAt: now,
    };
    state.checks.statuses.push(record);
    await this.refreshHeads(ctx, state);
    const branches = [...state.pulls.values()]
      .filter((p) => p.state === 'open' && p.head.sha === sha)
      .map((p) => ({ name: p.head.ref, sha }));
    this.deps.emit(`${ctx.repo.owner}/${ctx.repo.repo}`, 'status', () =>
      statusEvent(ctx, record, branches, userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id)),
    );
    await this.checksChanged(ctx, state, sha);
    return { status: 201, body: statusJson(ctx, record) };
  }

  private async createCheckRun({ ctx, state, json }: Call): Promise<RestAnswer> {
    const sha = typeof json.head_sha === 'string' ? json.head_sha : '';
    if ((await this.resolveCommit(ctx.repo, sha)) === null)
      return {
        status: 422,
        body: validationFailed(`${DOCS}/checks/runs#create-a-check-run`, [
          { resource: 'CheckRun', field: 'head_sha', code: 'invalid' },
        ]),
      };
    const now = this.deps.clock.iso();
    const status = (typeof json.conclusion === 'string' ? 'completed' : (json.status ?? 'queued')) as CheckStatus;
    const run: CheckRunRecord = {
      id: this.nextCheckId++,
      sha,
      name: String(json.name),
      status,
      conclusion: (json.conclusion ?? null) as CheckConclusion | null,
      startedAt: typeof json.started_at === 'string' ? json.started_at : now,
      completedAt: status === 'completed' ? now : null,
      detailsUrl: typeof json.details_url === 'string' ? json.details_url : null,
    };
    state.checks.checkRuns.push(run);
    await this.announceRun(ctx, state, run, 'created');
    return { status: 201, body: checkRunJson(ctx, run, this.pullsAt(state, sha)) };
  }

  private async updateCheckRun({ ctx, state, params, json }: Call): Promise<RestAnswer> {
    const run = state.checks.checkRuns.find((r) => r.id === Number(params[0]));
    if (run === undefined) return notFound();
    if (typeof json.conclusion === 'string') {
      Object.assign(run, {
        status: 'completed',
        conclusion: json.conclusion as CheckConclusion,
        completedAt: this.deps.clock.iso(),
      });
    } else if (typeof json.status === 'string') run.status = json.status as CheckStatus;
    await this.announceRun(ctx, state, run, run.status === 'completed' ? 'completed' : 'created');
    return { status: 200, body: checkRunJson(ctx, run, this.pullsAt(state, run.sha)) };
  }

  private async announceRun(
    ctx: JsonContext,
    state: RepoState,
    run: CheckRunRecord,
    action: 'created' | 'completed',
  ): Promise<void> {
    await this.refreshHeads(ctx, state);
    const pulls = this.pullsAt(state, run.sha);
    const snapshot = { ...run };
    this.deps.emit(`${ctx.repo.owner}/${ctx.repo.repo}`, 'check_run', () =>
      checkRunEvent(ctx, snapshot, pulls, action, userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id)),
    );
    await this.checksChanged(ctx, state, run.sha);
  }

  private async resolveCommit(repo: RepoRecord, sha: string): Promise<string | null> {
    return /^[0-9a-f]{40}$/.test(sha) ? this.refSha(repo, sha) : null;
  }

  private async refreshHeads(ctx: JsonContext, state: RepoState): Promise<void> {
    for (const pull of state.pulls.values()) await this.followHead(ctx, pull);
  }

  /**
   * After a check changed on `sha`: a PR with auto-merge enabled, or in its base branch's merge
   * queue, whose head is `sha` is merged once every check the base branch requires passed, as
   * GitHub does (its merge queue builds a merge group first; here the head's checks stand in).
   */
  private async checksChanged(ctx: JsonContext, state: RepoState, sha: string): Promise<void> {
    for (const pull of state.pulls.values()) {
      if (pull.state !== 'open' || pull.head.sha !== sha) continue;
      const waiting = pull.auto_merge ?? (pull.queued === true ? { merge_method: 'merge' } : null);
      if (waiting === null || !requiredChecksPass(state.checks, pull.base.ref, sha)) continue;
      await this.mergeNow(ctx, pull, { merge_method: waiting.merge_method, sha });
    }
  }

  /** The repo's checks state (GraphQL and the test helpers). */
  checksOf(owner: string, repo: string): ChecksState {
    const state = this.states.get(`${owner}/${repo}`);
    if (state === undefined) throw new Error(`no sandbox repo ${owner}/${repo}`);
    return state.checks;
  }

  /** A PR by its node id (`PR_…`, opaque to clients), for GraphQL. */
  pullByNodeId(nodeId: string): { ctx: JsonContext; state: RepoState; pull: SandboxPull } | undefined {
    for (const [key, state] of this.states) {
      for (const pull of state.pulls.values()) {
        const repo = this.deps.repos.get(key);
        if (repo === undefined) continue;
        const ctx = { origin: this.deps.origin(), api: this.deps.apiBase(), repo };
        if (pullNodeId(ctx, pull) === nodeId) return { ctx, state, pull };
      }
    }
    return undefined;
  }

  /** A PR by number, with its head brought up to date, for GraphQL. */
  async pullFor(
    owner: string,
    repo: string,
    number: number,
  ): Promise<{ ctx: JsonContext; state: RepoState; pull: SandboxPull } | undefined> {
    const record = this.deps.repos.get(`${owner}/${repo}`);
    const state = this.states.get(`${owner}/${repo}`);
    const pull = state?.pulls.get(number);
    if (record === undefined || state === undefined || pull === undefined) return undefined;
    const ctx = { origin: this.deps.origin(), api: this.deps.apiBase(), repo: record };
    await this.followHead(ctx, pull);
    return { ctx, state, pull };
  }

  /** Auto-merge or the queue just took the PR: merge it now if its checks already passed. */
  async settle(ctx: JsonContext, state: RepoState, pull: SandboxPull): Promise<void> {
    await this.checksChanged(ctx, state, pull.head.sha);
  }

  /**
   * An open PR follows its head branch, as on GitHub: a push to the branch moves `head.sha` (and
   * `updated_at`). A closed PR keeps the head it had.
   */
  private async followHead(ctx: JsonContext, pull: SandboxPull): Promise<void> {
    if (pull.state !== 'open') return;
    const tip = await this.branchSha(ctx.repo, pull.head.ref);
    if (tip === null || tip === pull.head.sha) return;
    pull.head.sha = tip;
    pull.updated_at = this.deps.clock.iso();
  }

  private branchSha(repo: RepoRecord, branch: string): Promise<string | null> {
    return this.refSha(repo, `refs/heads/${branch}`);
  }

  private async refSha(repo: RepoRecord, ref: string): Promise<string | null> {
    const result = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
      cwd: repo.bareDir,
      home: this.deps.home,
    });
    return result.code === 0 ? result.stdout.toString('utf8').trim() : null;
  }

  private async isAncestor(repo: RepoRecord, a: string, b: string): Promise<boolean> {
    return (
      (await runGit(['merge-base', '--is-ancestor', a, b], { cwd: repo.bareDir, home: this.deps.home })).code === 0
    );
  }
}

/** 204 when the login is a collaborator of the repo, else 404 (GitHub's yes/no checks). */
function isCollaborator({ ctx, params }: Call): RestAnswer {
  return ctx.repo.collaborators.has((params[0] ?? '').toLowerCase()) ? { status: 204, body: undefined } : notFound();
}

function notFound(): RestAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function badCredentials(): RestAnswer {
  return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
}

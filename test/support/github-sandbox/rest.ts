// The REST endpoints the product calls (issue 4), GitHub Enterprise layout under /api/v3, with
// GitHub's status codes and messages. Branch existence comes from the bare repo itself.
import { runGit } from './git-cli.js';
import { OpenApiValidator } from './openapi.js';
import type { RepoRecord } from './repos.js';
import { DOCS, commentJson, paginate, pullJson, repoJson, validationFailed, type JsonContext } from './rest-json.js';
import type { SandboxComment, SandboxPull } from './types.js';

export interface RestRequest { method: string; pathname: string; query: Record<string, string>; headers: Record<string, string>; body: string }
export interface RestAnswer { status: number; body?: unknown; headers?: Record<string, string> }

interface RepoState { nextNumber: number; pulls: Map<number, SandboxPull>; comments: Map<number, SandboxComment[]> }
interface Call { req: RestRequest; ctx: JsonContext; state: RepoState; params: string[]; json: Record<string, unknown> }
interface Route { method: string; template: string; pattern: RegExp; run: (call: Call) => Promise<RestAnswer> | RestAnswer }

const SEG = '([^/]+)';
const route = (method: string, template: string, run: Route['run']): Route => ({
  method, template, run,
  // {ref} may hold slashes (heads/relyloop/x) whether or not the client encoded them.
  pattern: new RegExp(`^${template.replace('{ref}', '(.+)').replace(/\{[a-z_]+\}/g, SEG)}$`),
});

export interface RestDeps { repos: Map<string, RepoRecord>; home: string; validationFailures: string[]; origin: () => string }

export class RestApi {
  private readonly states = new Map<string, RepoState>();
  private readonly validator = new OpenApiValidator();
  private nextCommentId = 90_001;
  private readonly routes: Route[];

  constructor(private readonly deps: RestDeps) {
    this.routes = [
      route('GET', '/repos/{owner}/{repo}', ({ ctx }) => ({ status: 200, body: repoJson(ctx) })),
      route('POST', '/repos/{owner}/{repo}/pulls', (c) => this.createPull(c)),
      route('GET', '/repos/{owner}/{repo}/pulls', (c) => this.listPulls(c)),
      route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', (c) => this.getPull(c)),
      route('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', (c) => this.updatePull(c)),
      route('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (c) => this.createComment(c)),
      route('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (c) => this.listComments(c)),
      route('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', (c) => this.deleteRef(c)),
    ];
  }

  resetRepo(owner: string, repo: string): void {
    this.states.set(`${owner}/${repo}`, { nextNumber: 1, pulls: new Map(), comments: new Map() });
  }

  pulls(owner: string, repo: string): SandboxPull[] {
    return [...(this.states.get(`${owner}/${repo}`)?.pulls.values() ?? [])].map((p) => structuredClone(p));
  }

  comments(owner: string, repo: string, issueNumber: number): SandboxComment[] {
    return (this.states.get(`${owner}/${repo}`)?.comments.get(issueNumber) ?? []).map((c) => ({ ...c }));
  }

  async handle(req: RestRequest): Promise<RestAnswer> {
    const found = this.routes.map((r) => ({ r, m: r.pattern.exec(req.pathname) })).find((x) => x.m !== null && x.r.method === req.method);
    if (found?.m == null) return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    const params = found.m.slice(1).map((p) => decodeURIComponent(p));
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) return { status: 401, body: { message: 'Requires authentication', documentation_url: DOCS, status: '401' } };
    const repo = this.deps.repos.get(`${params[0]}/${params[1]}`);
    const state = this.states.get(`${params[0]}/${params[1]}`);
    if (repo === undefined || state === undefined) {
      const known = [...this.deps.repos.values()].some((r) => r.token === token);
      return known ? { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } } : badCredentials();
    }
    if (token !== repo.token) return badCredentials();
    const errors = this.validator.check(req.method, found.r.template, req.query, req.body);
    if (errors.length > 0) {
      this.deps.validationFailures.push(`${req.method} ${found.r.template}: ${errors.join('; ')}`);
      return { status: 422, body: { message: `Invalid request.\n\n${errors.join('\n')}`, documentation_url: DOCS, status: '422' } };
    }
    const json = req.body.trim() === '' ? {} : (JSON.parse(req.body) as Record<string, unknown>);
    return found.r.run({ req, ctx: { origin: this.deps.origin(), repo }, state, params: params.slice(2), json });
  }

  private async createPull({ ctx, state, json }: Call): Promise<RestAnswer> {
    const docs = `${DOCS}/pulls/pulls#create-a-pull-request`;
    const rawHead = String(json.head);
    const base = String(json.base);
    if (typeof json.title !== 'string') return { status: 422, body: validationFailed(docs, [{ resource: 'Issue', field: 'title', code: 'missing_field' }]) };
    const colon = rawHead.indexOf(':');
    const headOwner = colon === -1 ? ctx.repo.owner : rawHead.slice(0, colon);
    const head = colon === -1 ? rawHead : rawHead.slice(colon + 1);
    const headSha = headOwner === ctx.repo.owner ? await this.branchSha(ctx.repo, head) : null;
    const baseSha = await this.branchSha(ctx.repo, base);
    const invalid = [...(headSha === null ? ['head'] : []), ...(baseSha === null ? ['base'] : [])];
    if (invalid.length > 0) return { status: 422, body: validationFailed(docs, invalid.map((field) => ({ resource: 'PullRequest', field, code: 'invalid' }))) };
    if ([...state.pulls.values()].some((p) => p.state === 'open' && p.head.ref === head)) {
      const message = `A pull request already exists for ${ctx.repo.owner}:${head}.`;
      return { status: 422, body: validationFailed(docs, [{ resource: 'PullRequest', code: 'custom', message }]) };
    }
    if (await this.isAncestor(ctx.repo, headSha as string, baseSha as string)) {
      return { status: 422, body: validationFailed(docs, [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]) };
    }
    const now = new Date().toISOString();
    const pull: SandboxPull = {
      number: state.nextNumber++, state: 'open', title: json.title, body: typeof json.body === 'string' ? json.body : null,
      head: { ref: head, sha: headSha as string, label: `${ctx.repo.owner}:${head}` },
      base: { ref: base, sha: baseSha as string, label: `${ctx.repo.owner}:${base}` },
      draft: json.draft === true, maintainer_can_modify: json.maintainer_can_modify === true,
      created_at: now, updated_at: now, closed_at: null,
    };
    state.pulls.set(pull.number, pull);
    return { status: 201, body: pullJson(ctx, pull), headers: { location: `${ctx.origin}/api/v3/repos/${ctx.repo.owner}/${ctx.repo.repo}/pulls/${pull.number}` } };
  }

  private listPulls({ ctx, state, req }: Call): RestAnswer {
    const wanted = req.query.state ?? 'open';
    // GitHub only applies `head` in the `owner:branch` form; a bare branch name filters nothing.
    const head = req.query.head?.includes(':') === true ? req.query.head : undefined;
    const items = [...state.pulls.values()]
      .filter((p) => wanted === 'all' || p.state === wanted)
      .filter((p) => head === undefined || p.head.label === head)
      .filter((p) => req.query.base === undefined || p.base.ref === req.query.base)
      .sort((a, b) => (req.query.direction === 'asc' ? a.number - b.number : b.number - a.number));
    const url = `${ctx.origin}/api/v3/repos/${ctx.repo.owner}/${ctx.repo.repo}/pulls?${new URLSearchParams(req.query).toString()}`;
    const { page, headers } = paginate(items, req.query, url);
    return { status: 200, body: page.map((p) => pullJson(ctx, p)), headers };
  }

  private getPull({ ctx, state, params }: Call): RestAnswer {
    const pull = state.pulls.get(Number(params[0]));
    return pull === undefined ? notFound() : { status: 200, body: pullJson(ctx, pull) };
  }

  private async updatePull({ ctx, state, params, json }: Call): Promise<RestAnswer> {
    const pull = state.pulls.get(Number(params[0]));
    if (pull === undefined) return notFound();
    if (typeof json.base === 'string') {
      const sha = await this.branchSha(ctx.repo, json.base);
      if (sha === null) return { status: 422, body: validationFailed(`${DOCS}/pulls/pulls#update-a-pull-request`, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]) };
      pull.base = { ref: json.base, sha, label: `${ctx.repo.owner}:${json.base}` };
    }
    if (typeof json.title === 'string') pull.title = json.title;
    if (typeof json.body === 'string') pull.body = json.body;
    if (typeof json.maintainer_can_modify === 'boolean') pull.maintainer_can_modify = json.maintainer_can_modify;
    pull.updated_at = new Date().toISOString();
    if (json.state === 'closed' && pull.state === 'open') Object.assign(pull, { state: 'closed', closed_at: pull.updated_at });
    if (json.state === 'open' && pull.state === 'closed') Object.assign(pull, { state: 'open', closed_at: null });
    return { status: 200, body: pullJson(ctx, pull) };
  }

  private createComment({ ctx, state, params, json }: Call): RestAnswer {
    const issueNumber = Number(params[0]);
    if (!state.pulls.has(issueNumber)) return notFound();
    const comment: SandboxComment = { id: this.nextCommentId++, body: String(json.body), created_at: new Date().toISOString() };
    state.comments.set(issueNumber, [...(state.comments.get(issueNumber) ?? []), comment]);
    return { status: 201, body: commentJson(ctx, issueNumber, comment) };
  }

  private listComments({ ctx, state, params, req }: Call): RestAnswer {
    const issueNumber = Number(params[0]);
    if (!state.pulls.has(issueNumber)) return notFound();
    const since = req.query.since === undefined ? undefined : Date.parse(req.query.since);
    const items = (state.comments.get(issueNumber) ?? []).filter((c) => since === undefined || Date.parse(c.created_at) >= since);
    const url = `${ctx.origin}/api/v3/repos/${ctx.repo.owner}/${ctx.repo.repo}/issues/${issueNumber}/comments`;
    const { page, headers } = paginate(items, req.query, url);
    return { status: 200, body: page.map((c) => commentJson(ctx, issueNumber, c)), headers };
  }

  private async deleteRef({ ctx, state, params }: Call): Promise<RestAnswer> {
    const ref = params[0] ?? '';
    const gone = { status: 422, body: { message: 'Reference does not exist', documentation_url: `${DOCS}/git/refs#delete-a-reference`, status: '422' } };
    if (!/^(heads|tags)\//.test(ref) || ref.split('/').some((s) => s === '' || s === '..')) return gone;
    const sha = await this.refSha(ctx.repo, `refs/${ref}`);
    if (sha === null) return gone;
    // Deleting with the old value refuses a ref that moved meanwhile, like GitHub's atomic update.
    const deleted = await runGit(['update-ref', '-d', `refs/${ref}`, sha], { cwd: ctx.repo.bareDir, home: this.deps.home });
    if (deleted.code !== 0) return { status: 422, body: { message: `Reference update failed: ${deleted.stderr.trim()}`, documentation_url: `${DOCS}/git/refs#delete-a-reference`, status: '422' } };
    // GitHub closes open pull requests whose head branch is deleted.
    for (const pull of state.pulls.values()) {
      if (pull.state === 'open' && `heads/${pull.head.ref}` === ref) Object.assign(pull, { state: 'closed', closed_at: new Date().toISOString() });
    }
    return { status: 204 };
  }

  private branchSha(repo: RepoRecord, branch: string): Promise<string | null> {
    return this.refSha(repo, `refs/heads/${branch}`);
  }

  private async refSha(repo: RepoRecord, ref: string): Promise<string | null> {
    const result = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repo.bareDir, home: this.deps.home });
    return result.code === 0 ? result.stdout.toString('utf8').trim() : null;
  }

  private async isAncestor(repo: RepoRecord, a: string, b: string): Promise<boolean> {
    return (await runGit(['merge-base', '--is-ancestor', a, b], { cwd: repo.bareDir, home: this.deps.home })).code === 0;
  }
}

function notFound(): RestAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function badCredentials(): RestAnswer {
  return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
}

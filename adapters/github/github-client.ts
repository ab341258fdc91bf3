// GitHubClient: the product's narrow view of GitHub's REST API for one repository.
// Every text sent is redacted first (docs/architecture.md "Security rules"); every failure is an AppError (errors.ts).
import type { Redactor } from '../../domain/redact.js';
import { AppError } from '../../domain/errors.js';
import type { GitHubPacer } from '../../domain/github-pacing.js';
import {
  adoptedPrVanished,
  assertCommentMarker,
  type ForgePullRequests,
  type IssueComment,
  type PullRequestRef,
  refusalOf,
  type PullRequestState,
} from '../../domain/forge.js';
import { missingFrom, type PrOptions } from '../../domain/pr-options.js';
import { classifyGitHubFailure, isHeadInvalid } from './errors.js';
import {
  createOctokit,
  LAG_RETRIES,
  type GitHubLimiterOptions,
  type GitHubOctokit,
  type OctokitLog,
} from './octokit-client.js';

export type { IssueComment, PullRequestRef, PullRequestState } from '../../domain/forge.js';

export interface GitHubClient extends ForgePullRequests {
  /**
   * A commit built by GitHub (Git Data API: blobs, a tree on `baseTree`, the commit on `parent`)
   * with no author, so GitHub signs it as the token's user — an App's bot.
   */
  createSignedCommit(input: {
    baseTree: string;
    parent: string;
    files: readonly { path: string; content: Uint8Array; mode: '100644' | '100755' }[];
    message: string;
  }): Promise<string>;
  /** Creates `refs/heads/{branch}` at `sha`, never moving an existing one: `exists` with its tip then. */
  createBranchRef(branch: string, sha: string): Promise<{ created: true } | { created: false; tip: string | null }>;
}

export interface CreateGitHubClientOptions {
  apiBaseUrl: string;
  token: string;
  owner: string;
  repo: string;
  redactor: Redactor;
  limiter?: GitHubLimiterOptions;
  /** Paces the token's writes across clients (and processes); see createOctokit. */
  pacer?: GitHubPacer;
  logger?: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** Clock for rate-limit reset arithmetic (tests). */
  now?: () => number;
}

/**
 * The token comes from the secrets dir, whose reader registered it with the redactor
 * (docs/architecture.md "Security rules").
 */
export function createGitHubClient(opts: CreateGitHubClientOptions): GitHubClient {
  return new OctokitGitHubClient(opts);
}

interface PullData {
  number: number;
  html_url: string;
  state: string;
  updated_at: string;
  merged_at: string | null;
  head: { ref: string; sha: string };
  base: { ref: string };
}

class OctokitGitHubClient implements GitHubClient {
  private readonly octokit: GitHubOctokit;
  private readonly repoParams: { owner: string; repo: string };

  constructor(private readonly opts: CreateGitHubClientOptions) {
    const redact = (fn: (m: string) => void) => (msg: string) => fn(opts.redactor.redactString(String(msg)));
    const logger = opts.logger;
    const log: OctokitLog | undefined =
      logger === undefined
        ? undefined
        : {
            debug: redact((m) => logger.debug(m)),
            info: redact((m) => logger.info(m)),
            warn: redact((m) => logger.warn(m)),
            error: redact((m) => logger.error(m)),
          };
    this.octokit = createOctokit({
      apiBaseUrl: opts.apiBaseUrl,
      token: opts.token,
      limiter: opts.limiter,
      pacer: opts.pacer,
      log,
    });
    this.repoParams = { owner: opts.owner, repo: opts.repo };
  }

  pullRequestText(input: { title: string; body: string }): { title: string; body: string } {
    const text = (s: string) => this.opts.redactor.redactString(s);
    return { title: text(input.title), body: text(input.body) };
  }

  async createOrAdoptPullRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
    draft?: boolean;
  }): Promise<PullRequestRef> {
    const { title, body } = this.pullRequestText(input);
    try {
      // GitHub's lag after the push (422 head invalid) is waited out in the request (octokit-client.ts).
      const { data } = await this.octokit.rest.pulls.create({
        ...this.repoParams,
        head: input.head,
        base: input.base,
        title,
        body,
        ...(input.draft === true ? { draft: true } : {}),
      });
      return toPullRef(data, false);
    } catch (error) {
      // Also the outcome of a retried POST whose first attempt did create the PR.
      if (!isAlreadyExists(error)) {
        if (isHeadInvalid(error))
          throw new AppError({
            message: this.opts.redactor.redactString(
              `GitHub create pull request (${this.opts.owner}/${this.opts.repo}) failed: 422 head ${input.head} is still invalid after ${LAG_RETRIES} tries (about 15 s; the branch is gone or GitHub cannot see it)`,
            ),
            code: 'GITHUB_API_FAILED',
            retryable: false,
            upstreamStatus: 422,
            operation: 'create pull request',
          });
        throw this.classify(error, 'create pull request');
      }
    }
    const open = await this.findOpenPullRequest(input.head);
    if (open === null) throw adoptedPrVanished('GitHub', input.head, 422);
    return { ...open, adopted: true };
  }

  async createSignedCommit(input: {
    baseTree: string;
    parent: string;
    files: readonly { path: string; content: Uint8Array; mode: '100644' | '100755' }[];
    message: string;
  }): Promise<string> {
    const tree: { path: string; mode: '100644' | '100755'; type: 'blob'; sha?: string; content?: string }[] = [];
    for (const file of input.files) {
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      let content: string | undefined;
      try {
        content = text.decode(file.content);
      } catch {
        content = undefined; // binary (the chart PNG): its own blob, base64
      }
      if (content !== undefined) {
        tree.push({ path: file.path, mode: file.mode, type: 'blob', content });
      } else {
        const { data } = await this.call('create blob', () =>
          this.octokit.rest.git.createBlob({
            ...this.repoParams,
            content: Buffer.from(file.content).toString('base64'),
            encoding: 'base64',
          }),
        );
        tree.push({ path: file.path, mode: file.mode, type: 'blob', sha: data.sha });
      }
    }
    const { data: created } = await this.call('create tree', () =>
      this.octokit.rest.git.createTree({ ...this.repoParams, base_tree: input.baseTree, tree }),
    );
    // No author or committer: GitHub authors it as the token's user and signs it.
    const { data: commit } = await this.call('create commit', () =>
      this.octokit.rest.git.createCommit({
        ...this.repoParams,
        message: input.message,
        tree: created.sha,
        parents: [input.parent],
      }),
    );
    return commit.sha;
  }

  async createBranchRef(
    branch: string,
    sha: string,
  ): Promise<{ created: true } | { created: false; tip: string | null }> {
    try {
      await this.octokit.rest.git.createRef({ ...this.repoParams, ref: `refs/heads/${branch}`, sha });
      return { created: true };
    } catch (error) {
      if (!(
        (error as { status?: unknown }).status === 422 &&
        /Reference already exists/i.test(String((error as Error).message))
      ))
        throw this.classify(error, 'create branch');
    }
    try {
      const { data } = await this.octokit.rest.git.getRef({ ...this.repoParams, ref: `heads/${branch}` });
      return { created: false, tip: data.object.sha };
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return { created: false, tip: null };
      throw this.classify(error, 'read branch');
    }
  }

  async getPullRequest(
    pullNumber: number,
    ifNoneMatch?: string | null,
  ): Promise<PullRequestState | null | 'not_modified'> {
    try {
      const headers = ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {};
      const { data, headers: answered } = await this.octokit.rest.pulls.get({
        ...this.repoParams,
        pull_number: pullNumber,
        headers,
      });
      return { ...toPullState(data), etag: answered.etag ?? null };
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (status === 304) return 'not_modified';
      if (status === 404) return null;
      throw this.classify(error, 'get pull request');
    }
  }

  async applyPrOptions(pullNumber: number, options: PrOptions): Promise<string[]> {
    const { labels, reviewers, teamReviewers, assignees } = options;
    if (labels.length + reviewers.length + teamReviewers.length + assignees.length === 0) return [];
    const warnings: string[] = [];
    // What the PR has already (an adopted PR, or an earlier attempt's): nothing is asked twice.
    let pr: Awaited<ReturnType<GitHubOctokit['rest']['pulls']['get']>>['data'];
    try {
      pr = (await this.octokit.rest.pulls.get({ ...this.repoParams, pull_number: pullNumber })).data;
    } catch (error) {
      return [`PR options not applied: ${this.refusal(error, 'get pull request')}`];
    }
    const issue = { ...this.repoParams, issue_number: pullNumber };
    const add = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        warnings.push(`${what} not applied: ${this.refusal(error, what)}`);
      }
    };
    const newLabels = missingFrom(
      labels,
      pr.labels.map((l) => l.name ?? ''),
    );
    if (newLabels.length > 0)
      await add('labels', () => this.octokit.rest.issues.addLabels({ ...issue, labels: newLabels }));
    const newReviewers = missingFrom(
      reviewers,
      (pr.requested_reviewers ?? []).map((u) => u.login),
    );
    const newTeams = missingFrom(
      teamReviewers,
      (pr.requested_teams ?? []).map((t) => t.slug),
    );
    const request = (users: string[], teams: string[]) => () =>
      this.octokit.rest.pulls.requestReviewers({
        ...this.repoParams,
        pull_number: pullNumber,
        ...(users.length > 0 ? { reviewers: users } : {}),
        ...(teams.length > 0 ? { team_reviewers: teams } : {}),
      });
    if (newReviewers.length + newTeams.length > 0) {
      try {
        await request(newReviewers, newTeams)();
      } catch (error) {
        // GitHub refuses the whole request for one login it cannot ask (not a collaborator, the
        // author): ask each one alone, so the others still get their request.
        if ((error as { status?: unknown }).status !== 422 || newReviewers.length + newTeams.length === 1) {
          warnings.push(`review requests not applied: ${this.refusal(error, 'request reviewers')}`);
        } else {
          for (const user of newReviewers) await add(`review request for ${user}`, request([user], []));
          for (const team of newTeams) await add(`review request for team ${team}`, request([], [team]));
        }
      }
    }
    const newAssignees = missingFrom(
      assignees,
      (pr.assignees ?? []).map((a) => a.login),
    );
    if (newAssignees.length > 0)
      await add('assignees', () => this.octokit.rest.issues.addAssignees({ ...issue, assignees: newAssignees }));
    return warnings;
  }

  async checkPrOptions(options: PrOptions): Promise<string[]> {
    const warnings: string[] = [];
    const where = `${this.opts.owner}/${this.opts.repo}`;
    // Yes (204) or no (404); a refusal to answer is itself what the preview reports.
    const check = async (operation: string, fn: () => Promise<unknown>): Promise<boolean | string> => {
      try {
        await fn();
        return true;
      } catch (error) {
        if ((error as { status?: unknown }).status === 404) return false;
        return this.refusal(error, operation);
      }
    };
    for (const user of options.reviewers) {
      const ok = await check('check collaborator', () =>
        this.octokit.rest.repos.checkCollaborator({ ...this.repoParams, username: user }),
      );
      if (ok === false)
        warnings.push(`review request for ${user} would not be applied: not a collaborator of ${where}`);
      else if (ok !== true) warnings.push(`review request for ${user} not checked: ${ok}`);
    }
    for (const assignee of options.assignees) {
      const ok = await check('check assignee', () =>
        this.octokit.rest.issues.checkUserCanBeAssigned({ ...this.repoParams, assignee }),
      );
      if (ok === false) warnings.push(`${assignee} cannot be assigned in ${where}: GitHub would leave them out`);
      else if (ok !== true) warnings.push(`assignee ${assignee} not checked: ${ok}`);
    }
    return warnings;
  }

  async findOpenPullRequest(head: string): Promise<PullRequestRef | null> {
    const { data } = await this.call('list pull requests', () =>
      this.octokit.rest.pulls.list({
        ...this.repoParams,
        head: `${this.opts.owner}:${head}`,
        state: 'open',
        per_page: 100,
      }),
    );
    const pull = data.find((p) => p.head.ref === head);
    return pull === undefined ? null : toPullRef(pull, false);
  }

  async listComments(issueNumber: number): Promise<IssueComment[]> {
    const data = await this.call('list comments', () =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, {
        ...this.repoParams,
        issue_number: issueNumber,
        per_page: 100,
      }),
    );
    return data.map((c) => ({ id: c.id, body: c.body ?? '', url: c.html_url }));
  }

  async createCommentOnce(input: {
    issueNumber: number;
    body: string;
    marker: string;
    unseen?: boolean;
  }): Promise<{ comment: IssueComment; created: boolean }> {
    assertCommentMarker(input.marker);
    const body = this.opts.redactor.redactString(
      input.body.includes(input.marker) ? input.body : `${input.body}\n\n${input.marker}`,
    );
    // Look before the post: an earlier attempt whose answer was lost may have posted it. The POST
    // itself is never repeated here (a lost answer would post twice); the step's retry looks again.
    const existing = input.unseen
      ? undefined
      : (await this.listComments(input.issueNumber)).find((c) => c.body.includes(input.marker));
    if (existing !== undefined) return { comment: existing, created: false };
    const { data } = await this.call('create comment', () =>
      this.octokit.rest.issues.createComment({ ...this.repoParams, issue_number: input.issueNumber, body }),
    );
    return { comment: { id: data.id, body: data.body ?? '', url: data.html_url }, created: true };
  }

  async closePullRequest(pullNumber: number): Promise<PullRequestState> {
    // GitHub answers a merged PR as it is (merged, closed) instead of refusing the close.
    const { data } = await this.call('close pull request', () =>
      this.octokit.rest.pulls.update({ ...this.repoParams, pull_number: pullNumber, state: 'closed' }),
    );
    return { ...toPullState(data), etag: null };
  }

  async commitMessage(sha: string): Promise<string | null> {
    try {
      return (await this.octokit.rest.git.getCommit({ ...this.repoParams, commit_sha: sha })).data.message;
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return null;
      throw this.classify(error, 'get commit');
    }
  }

  async deleteBranch(branch: string): Promise<{ deleted: boolean }> {
    try {
      await this.octokit.rest.git.deleteRef({ ...this.repoParams, ref: `heads/${branch}` });
      return { deleted: true };
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (status === 404 || (status === 422 && /Reference does not exist/i.test(String((error as Error).message))))
        return { deleted: false };
      throw this.classify(error, 'delete branch');
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.classify(error, operation);
    }
  }

  /** What GitHub's refusal of a PR option says, for the run's warnings (a transient failure throws). */
  private refusal(error: unknown, operation: string): string {
    return refusalOf(this.classify(error, operation));
  }

  private classify(error: unknown, operation: string): AppError {
    return classifyGitHubFailure(
      error,
      `${operation} (${this.opts.owner}/${this.opts.repo})`,
      this.opts.redactor,
      (this.opts.now ?? Date.now)(),
    );
  }
}

function isAlreadyExists(error: unknown): boolean {
  return (
    (error as { status?: unknown }).status === 422 &&
    /A pull request already exists/i.test(String((error as Error).message))
  );
}

/** A pull request as GitHub's REST API answers it (get, update), in the forge port's terms. */
export function toPullState(data: PullData & { merged?: boolean }): Omit<PullRequestState, 'etag'> {
  return {
    number: data.number,
    state: data.state === 'closed' ? 'closed' : 'open',
    merged: data.merged === true || data.merged_at !== null,
    merged_at: data.merged_at,
    updated_at: data.updated_at,
    head: { ref: data.head.ref, sha: data.head.sha },
  };
}

function toPullRef(data: PullData, adopted: boolean): PullRequestRef {
  return {
    number: data.number,
    url: data.html_url,
    headRef: data.head.ref,
    baseRef: data.base.ref,
    state: data.state === 'closed' ? 'closed' : 'open',
    adopted,
  };
}

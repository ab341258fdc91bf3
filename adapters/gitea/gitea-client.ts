// The forge port (domain/forge.ts) on Gitea and Forgejo: their REST API, `{origin}/api/v1`,
// with `Authorization: token …`, for one repository. Every text sent is redacted first
// (docs/architecture.md "Security rules"); every failure is an AppError with the codes the workflow
// knows (the `GITHUB_*` codes name the forge's refusal, whichever forge it is). Where Gitea differs
// from GitHub, it is handled here, each difference pinned against a real Gitea in
// test/int/gitea-forge.int.test.ts and test/int/gitea-client.int.test.ts:
// - a second PR for the same head and base is 409 (GitHub: 422): the open one is adopted;
// - `GET /pulls?head=` ignores the filter: PRs are found by paging the open ones;
// - `draft` is ignored: a draft is marked by Gitea's work-in-progress title prefix;
// - labels are set by id (unknown names would be dropped silently): names are resolved first and
//   a missing one is a warning;
// - closing answers 201; branches are deleted through /branches; no ETags (no conditional reads);
// - a PR whose head branch was deleted names `refs/pull/{n}/head` as its head ref (headBranchOf).
import { AppError } from '../../domain/errors.js';
import {
  adoptedPrVanished,
  assertCommentMarker,
  headBranchOf,
  type ForgePullRequests,
  type IssueComment,
  type PullRequestRef,
  refusalOf,
  type PullRequestState,
} from '../../domain/forge.js';
import { missingFrom, type PrOptions } from '../../domain/pr-options.js';
import type { Redactor } from '../../domain/redact.js';
import { classifyTransportFailure } from '../../domain/transport-failures.js';
import { withWriteTurn, type GitHubPacer } from '../../domain/github-pacing.js';
import { activitySleep, currentCancellationSignal } from '../../runtime/activity-context.js';

/** Gitea's default prefix for a work-in-progress PR (`[repository.pull-request] WORK_IN_PROGRESS_PREFIXES`). */
export const GITEA_WIP_PREFIX = 'WIP: ';
/** What a list asks for per page (Gitea's MAX_RESPONSE_ITEMS default; a server may cap it lower). */
const PAGE_SIZE = 50;
/** A list longer than this many pages is not one a repository of ours has (a server ignoring `page`). */
const MAX_PAGES = 200;
/** Gitea answers a request it is too slow for; a hung one is cut here and retried by the step. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface CreateGiteaClientOptions {
  /** The server's origin, e.g. `https://gitea.example.com` (no `/api/v1`). */
  origin: string;
  token: string;
  owner: string;
  repo: string;
  redactor: Redactor;
  /** Paces this token's writes (RELYLOOP_GITEA_WRITE_GAP); none when omitted. */
  pacer?: GitHubPacer;
  warn?: (msg: string) => void;
}

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
/** Writes that create content: a PR, a comment (the content budget of the pacing rules). */
const CREATES_CONTENT = /\/(pulls|comments)$/;

interface GiteaPull {
  number: number;
  html_url: string;
  state: string;
  title: string;
  merged: boolean;
  merged_at: string | null;
  updated_at: string;
  head: { ref: string; sha: string; label?: string };
  base: { ref: string };
  labels?: { id: number; name: string }[] | null;
  assignees?: { login: string }[] | null;
  requested_reviewers?: { login: string }[] | null;
}

/** A branch name as a URL path: each segment encoded, its slashes kept (Gitea routes them). */
const refPath = (ref: string) => ref.split('/').map(encodeURIComponent).join('/');

class GiteaError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createGiteaClient(opts: CreateGiteaClientOptions): ForgePullRequests {
  const repoPath = `/repos/${encodeURIComponent(opts.owner)}/${encodeURIComponent(opts.repo)}`;
  const text = (s: string) => opts.redactor.redactString(s);
  const where = `${opts.owner}/${opts.repo}`;

  async function request<T>(method: string, route: string, body?: unknown): Promise<T> {
    if (opts.pacer === undefined || !MUTATING.has(method)) return send<T>(method, route, body);
    const paced = {
      createsContent: method === 'POST' && CREATES_CONTENT.test(route),
      sleep: activitySleep,
      warn: (m: string) => opts.warn?.(`Gitea ${m}`),
    };
    return withWriteTurn(opts.pacer, opts.token, paced, () => send<T>(method, route, body));
  }

  async function send<T>(method: string, route: string, body?: unknown): Promise<T> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    // Inside an activity, its cancellation aborts the request (runtime/activity-context.ts).
    const cancelled = currentCancellationSignal();
    const res = await fetch(`${opts.origin.replace(/\/$/, '')}/api/v1${route}`, {
      method,
      headers: {
        authorization: `token ${opts.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: cancelled === undefined ? timeout : AbortSignal.any([cancelled, timeout]),
    });
    const raw = await res.text();
    if (!res.ok) {
      let message = raw.slice(0, 500);
      try {
        message = String((JSON.parse(raw) as { message?: unknown }).message ?? message);
      } catch {
        /* not JSON: the text itself */
      }
      throw new GiteaError(res.status, message);
    }
    return (raw === '' ? null : JSON.parse(raw)) as T;
  }

  /** A PR option Gitea refused, for the run's warnings (a transient failure throws). */
  function refusal(error: unknown, operation: string): string {
    return refusalOf(classify(error, operation));
  }

  /** Any failure of `operation` as an AppError with a redacted message. */
  function classify(error: unknown, operation: string): AppError {
    if (error instanceof AppError) return error;
    const status = error instanceof GiteaError ? error.status : undefined;
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    const detail = `${status ?? 'network'} ${error instanceof Error ? error.message : String(error)}`;
    const message = text(`Gitea ${operation} (${where}) failed: ${detail}`);
    const kind = classifyTransportFailure({ status, code: typeof code === 'string' ? code : undefined });
    if (kind === 'transient')
      return new AppError({ code: 'GITHUB_API_FAILED', message, retryable: true, upstreamStatus: status, operation });
    if (kind === 'auth' || kind === 'not_found') {
      const hint =
        status === 401
          ? 'the token is invalid, expired or revoked'
          : status === 403
            ? 'the token lacks a scope this call needs (write:repository and write:issue)'
            : 'the repository does not exist or the token cannot see it';
      return new AppError({
        code: 'GITHUB_AUTH_FAILED',
        message: `${message}; ${hint}`,
        retryable: false,
        upstreamStatus: status,
        operation,
      });
    }
    return new AppError({ code: 'GITHUB_API_FAILED', message, retryable: false, upstreamStatus: status, operation });
  }

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw classify(error, operation);
    }
  }

  /**
   * Every page of a list (Gitea pages with `page` and `limit`). A server may cap `limit` lower
   * than asked (its MAX_RESPONSE_ITEMS), so only an empty page ends the list.
   */
  async function all<T>(operation: string, route: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const sep = route.includes('?') ? '&' : '?';
      const items =
        (await call(operation, () => request<T[] | null>('GET', `${route}${sep}limit=${PAGE_SIZE}&page=${page}`))) ??
        [];
      if (items.length === 0) return out;
      out.push(...items);
    }
    throw new AppError({
      code: 'GITHUB_API_FAILED',
      message: `Gitea ${operation} (${where}) did not end after ${MAX_PAGES} pages`,
      retryable: false,
      operation,
    });
  }

  const toRef = (p: GiteaPull, adopted: boolean): PullRequestRef => ({
    number: p.number,
    url: p.html_url,
    headRef: headBranchOf(p.head),
    baseRef: p.base.ref,
    state: p.state === 'closed' ? 'closed' : 'open',
    adopted,
  });

  const toState = (p: GiteaPull): PullRequestState => ({
    number: p.number,
    state: p.state === 'closed' ? 'closed' : 'open',
    merged: p.merged === true,
    merged_at: p.merged_at,
    updated_at: p.updated_at,
    head: { ref: headBranchOf(p.head), sha: p.head.sha },
    etag: null,
  });

  const client: ForgePullRequests = {
    async getPullRequest(pullNumber): Promise<PullRequestState | null> {
      try {
        return toState(await request<GiteaPull>('GET', `${repoPath}/pulls/${pullNumber}`));
      } catch (error) {
        if (error instanceof GiteaError && error.status === 404) return null;
        throw classify(error, 'get pull request');
      }
    },

    pullRequestText(input) {
      const title =
        input.draft === true && !input.title.startsWith(GITEA_WIP_PREFIX)
          ? `${GITEA_WIP_PREFIX}${input.title}`
          : input.title;
      return { title: text(title), body: text(input.body) };
    },

    async createOrAdoptPullRequest(input) {
      const { title, body } = client.pullRequestText(input);
      try {
        const created = await request<GiteaPull>('POST', `${repoPath}/pulls`, {
          head: input.head,
          base: input.base,
          title,
          body,
        });
        return toRef(created, false);
      } catch (error) {
        // Also the outcome of a retried POST whose first attempt did create the PR.
        if (!(error instanceof GiteaError && error.status === 409)) throw classify(error, 'create pull request');
      }
      const open = await call('get pull request', () =>
        request<GiteaPull>('GET', `${repoPath}/pulls/${encodeURIComponent(input.base)}/${refPath(input.head)}`),
      ).catch((error: unknown) => {
        if (error instanceof AppError && error.upstreamStatus === 404) return null;
        throw error;
      });
      if (open === null || open.state !== 'open') throw adoptedPrVanished('Gitea', input.head, 409);
      return toRef(open, true);
    },

    async applyPrOptions(pullNumber, options: PrOptions) {
      const { labels, reviewers, teamReviewers, assignees } = options;
      if (labels.length + reviewers.length + teamReviewers.length + assignees.length === 0) return [];
      const warnings: string[] = [];
      let pr: GiteaPull;
      try {
        pr = await request<GiteaPull>('GET', `${repoPath}/pulls/${pullNumber}`);
      } catch (error) {
        return [`PR options not applied: ${refusal(error, 'get pull request')}`];
      }
      const add = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (error) {
          warnings.push(`${what} not applied: ${refusal(error, what)}`);
        }
      };
      const newLabels = missingFrom(
        labels,
        (pr.labels ?? []).map((l) => l.name),
      );
      if (newLabels.length > 0) {
        await add('labels', async () => {
          const known = await all<{ id: number; name: string }>('list labels', `${repoPath}/labels`);
          const ids = newLabels.flatMap((name) => known.filter((l) => l.name === name).map((l) => l.id));
          const unknown = newLabels.filter((name) => !known.some((l) => l.name === name));
          if (unknown.length > 0)
            warnings.push(
              `labels not applied: ${unknown.join(', ')} (no such label in ${where}; Gitea applies only existing labels)`,
            );
          if (ids.length > 0) await request('POST', `${repoPath}/issues/${pullNumber}/labels`, { labels: ids });
        });
      }
      const newReviewers = missingFrom(
        reviewers,
        (pr.requested_reviewers ?? []).map((u) => u.login),
      );
      if (newReviewers.length + teamReviewers.length > 0) {
        await add('review requests', () =>
          request('POST', `${repoPath}/pulls/${pullNumber}/requested_reviewers`, {
            ...(newReviewers.length > 0 ? { reviewers: newReviewers } : {}),
            ...(teamReviewers.length > 0 ? { team_reviewers: teamReviewers } : {}),
          }),
        );
      }
      const present = (pr.assignees ?? []).map((a) => a.login);
      const newAssignees = missingFrom(assignees, present);
      // Gitea's issue edit replaces the assignee set: send the union.
      if (newAssignees.length > 0)
        await add('assignees', () =>
          request('PATCH', `${repoPath}/issues/${pullNumber}`, { assignees: [...present, ...newAssignees] }),
        );
      return warnings;
    },

    async checkPrOptions(options: PrOptions) {
      const warnings: string[] = [];
      const refused = (error: unknown, what: string) => `${what} not checked: ${refusal(error, what)}`;
      if (options.labels.length > 0) {
        try {
          const known = await all<{ id: number; name: string }>('list labels', `${repoPath}/labels`);
          const unknown = options.labels.filter((name) => !known.some((l) => l.name === name));
          if (unknown.length > 0)
            warnings.push(
              `labels not applied: ${unknown.join(', ')} (no such label in ${where}; Gitea applies only existing labels)`,
            );
        } catch (error) {
          warnings.push(refused(error, 'labels'));
        }
      }
      for (const user of options.reviewers) {
        try {
          await request('GET', `${repoPath}/collaborators/${encodeURIComponent(user)}`);
        } catch (error) {
          if (error instanceof GiteaError && error.status === 404)
            warnings.push(`review request for ${user} would not be applied: not a collaborator of ${where}`);
          else warnings.push(refused(error, `review request for ${user}`));
        }
      }
      if (options.assignees.length > 0) {
        try {
          const can = await all<{ login: string }>('list assignees', `${repoPath}/assignees`);
          for (const assignee of missingFrom(
            options.assignees,
            can.map((u) => u.login),
          ))
            warnings.push(`${assignee} cannot be assigned in ${where}: Gitea would refuse the assignment`);
        } catch (error) {
          warnings.push(refused(error, 'assignees'));
        }
      }
      return warnings;
    },

    async findOpenPullRequest(head) {
      // Gitea ignores `head` on the list (pinned in gitea-forge.int.test.ts): page through the open ones.
      const open = await all<GiteaPull>('list pull requests', `${repoPath}/pulls?state=open`);
      const pull = open.find((p) => headBranchOf(p.head) === head);
      return pull === undefined ? null : toRef(pull, false);
    },

    async listComments(issueNumber): Promise<IssueComment[]> {
      // Gitea answers every comment of an issue at once (this list takes no `page`).
      const comments =
        (await call('list comments', () =>
          request<{ id: number; body: string; html_url: string }[] | null>(
            'GET',
            `${repoPath}/issues/${issueNumber}/comments`,
          ),
        )) ?? [];
      return comments.map((c) => ({ id: c.id, body: c.body ?? '', url: c.html_url }));
    },

    async createCommentOnce(input) {
      assertCommentMarker(input.marker);
      const body = text(input.body.includes(input.marker) ? input.body : `${input.body}\n\n${input.marker}`);
      // Look before the post: an earlier attempt whose answer was lost may have posted it. The
      // POST itself is never retried here (a lost answer would post twice); the step retries.
      const existing = input.unseen
        ? undefined
        : (await client.listComments(input.issueNumber)).find((c) => c.body.includes(input.marker));
      if (existing !== undefined) return { comment: existing, created: false };
      const posted = await call('create comment', () =>
        request<{ id: number; body: string; html_url: string }>(
          'POST',
          `${repoPath}/issues/${input.issueNumber}/comments`,
          { body },
        ),
      );
      return { comment: { id: posted.id, body: posted.body ?? '', url: posted.html_url }, created: true };
    },

    async closePullRequest(pullNumber) {
      return toState(
        await call('close pull request', () =>
          request<GiteaPull>('PATCH', `${repoPath}/pulls/${pullNumber}`, { state: 'closed' }),
        ),
      );
    },

    async commitMessage(sha) {
      try {
        return (
          await request<{ commit: { message: string } }>('GET', `${repoPath}/git/commits/${encodeURIComponent(sha)}`)
        ).commit.message;
      } catch (error) {
        if (error instanceof GiteaError && (error.status === 404 || error.status === 422)) return null;
        throw classify(error, 'get commit');
      }
    },

    async deleteBranch(branch) {
      try {
        await request('DELETE', `${repoPath}/branches/${refPath(branch)}`);
        return { deleted: true };
      } catch (error) {
        if (error instanceof GiteaError && error.status === 404) return { deleted: false };
        throw classify(error, 'delete branch');
      }
    },
  };
  return client;
}

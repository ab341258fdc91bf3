// Public shape of the GitHub sandbox. Other suites code against these types: change them
// only additively.

export type SandboxFile =
  | string
  | Buffer
  | { symlink: string }
  | { submodule: string /* 40-hex commit sha */ }
  | { executable: string | Buffer };
/** Repo-relative, '/'-separated paths. */
export type SandboxFiles = Record<string, SandboxFile>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased names, as received. */
  headers: Record<string, string>;
  /** Decoded body (gzip removed); binary git bodies as latin1. */
  body: string;
  status: number;
  kind: 'git' | 'rest';
  /** When the request arrived (its headers and body read), Date.now(). */
  receivedAt: number;
  /** When its answer was sent (REST), Date.now(); undefined until then, or when none was. */
  answeredAt?: number;
}

/** Faults are consumed in order, one per matching request. */
export interface FaultSpec {
  method?: string;
  path: RegExp;
  /** Matched against the query string with its `?` (e.g. `?service=git-receive-pack`); any when absent. */
  query?: RegExp;
  faults: Fault[];
}
/**
 * How a faulty server quotes the request's credential in its answer (message and reason phrase):
 * `true` as a Basic value or the base64 of `credential=<token>`, `raw` as sent, `header_base64`
 * the whole Authorization header base64-encoded.
 */
export type CredentialEcho = true | 'raw' | 'header_base64';

export type Fault =
  | {
      status: number;
      headers?: Record<string, string>;
      body?: unknown;
      statusMessage?: string;
      echoCredential?: CredentialEcho;
    }
  | { reset: true }
  | { delayMs: number }
  /** Serve the request, then reset the connection instead of answering (the server acted; the client never hears). */
  | { dropAnswer: true }
  /** Hold the request until released: `before` it is served, or `after` it was served and before the answer. */
  | { hold: HeldRequest; when: 'before' | 'after' };

/**
 * A request held by the sandbox (`holdNext`): a test acts while a client waits — kills the worker
 * whose request it is, then releases it (the answer goes to a closed socket).
 */
export interface HeldRequest {
  /** Resolves once a matching request arrived (and, for `after`, was served). */
  readonly reached: Promise<RecordedRequest>;
  release(): void;
}

/**
 * A share of requests fails at random, for soak tests. The generator is seeded, so a run can be
 * repeated; `kinds` are drawn uniformly.
 */
export interface RandomFaults {
  /** Probability that one matching request gets a fault, 0–1. */
  rate: number;
  seed: number;
  /** What a faulted request gets; `dropAnswer` is used on writes only (POST, PATCH, DELETE). */
  kinds: Fault[];
  /** Requests eligible (default: all). */
  path?: RegExp;
}

/** A token's fine-grained permissions on one repository (GitHub App / fine-grained PAT model). */
export interface TokenPermissions {
  contents: 'none' | 'read' | 'write';
  pull_requests: 'none' | 'read' | 'write';
  issues: 'none' | 'read' | 'write';
  /** Check runs and commit statuses (absent: none). */
  checks?: 'none' | 'read' | 'write';
  statuses?: 'none' | 'read' | 'write';
}

/** A ruleset or branch protection that declines pushes to matching branches (a shell glob). */
export interface PushRule {
  kind: 'ruleset' | 'protected_branch';
  /** Branch name glob, e.g. `relyloop/*` or `main`. */
  pattern: string;
  /** The rule's own line (GitHub's wording by default). */
  message?: string;
}

/** GitHub's REST rate limits per token (rate-limits.ts); defaults are github.com's. */
export interface RateLimitSettings {
  primaryPerHour: number;
  contentPerMinute: number;
  contentPerHour: number;
  concurrent: number;
  /** Minimum gap between mutative requests of one token (0: not enforced). */
  minWriteGapMs: number;
}

export interface SandboxUser {
  login: string;
}

export interface SandboxPull {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  head: { ref: string; sha: string; label: string };
  base: { ref: string; sha: string; label: string };
  draft: boolean;
  maintainer_can_modify: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  /** Set by a merge (PUT …/pulls/{n}/merge): a merged PR is closed and stays so. */
  merged?: boolean;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  /** Labels, review requests and assignees, as added through the API. */
  labels?: string[];
  requested_reviewers?: string[];
  requested_teams?: string[];
  assignees?: string[];
  /** GitHub's auto-merge, enabled through GraphQL: merged with this method once the checks pass. */
  auto_merge?: { merge_method: 'merge' | 'squash' | 'rebase'; enabled_at: string } | null;
  /** In its base branch's merge queue (GraphQL enqueuePullRequest). */
  queued?: boolean;
}

export interface SandboxComment {
  id: number;
  body: string;
  created_at: string;
}

export interface CreateRepoOptions {
  owner: string;
  repo: string;
  token: string;
  defaultBranch?: string;
  files: SandboxFiles;
}

export interface CreateLargeRepoOptions {
  owner: string;
  repo: string;
  token: string;
  fileCount: number;
  defaultBranch?: string;
  extraFiles?: SandboxFiles;
}

export type { DeliveryFault, SandboxDelivery, WebhookSettings } from './webhooks.js';
import type { SandboxClock } from './clock.js';
import type { DeliveryFault, SandboxDelivery, WebhookSettings } from './webhooks.js';

export interface GitHubSandbox {
  /** http://127.0.0.1:PORT, or https://{hostname}:PORT with `tls`. */
  origin: string;
  /** 127.0.0.1:PORT, or {hostname}:PORT with `tls`. */
  host: string;
  /** `${origin}/api/v3` (GitHub Enterprise layout), or https://api.{hostname}:PORT (github.com's). */
  apiBaseUrl: string;
  /** With `tls`: the throwaway CA's PEM file, for NODE_EXTRA_CA_CERTS. */
  caFile: string | undefined;
  /** With `tls`: the names a client must resolve to 127.0.0.1 ({hostname}, api.{hostname}). */
  hostnames: string[];
  /** `${origin}/{owner}/{repo}`: what a config repo's repo_url is. */
  repoUrl(owner: string, repo: string): string;
  /** `${origin}/{owner}/{repo}.git` */
  gitUrl(owner: string, repo: string): string;
  /** Bare repo path on disk, for `git` CLI assertions in tests. */
  bareDir(owner: string, repo: string): string;
  createRepo(opts: CreateRepoOptions): Promise<{ headSha: string }>;
  /**
   * Gives `token` these permissions on a repo (replacing earlier ones); `null` takes all access
   * away, so the repo is hidden from it (404). The token becomes known to the sandbox either way.
   */
  grantAccess(opts: {
    owner: string;
    repo: string;
    token: string;
    permissions: Partial<TokenPermissions> | null;
  }): void;
  /** Declines pushes to matching branches as GitHub's rulesets / branch protection do. */
  setPushRules(owner: string, repo: string, rules: PushRule[]): Promise<void>;
  /** A GitHub App (apps.ts): its private key, PEM. Its JWTs are verified with the public half. */
  createApp(appId: number): { appId: number; privateKeyPem: string };
  /** Installs the App on a repo (all permissions unless given); the installation id. */
  installApp(opts: { appId: number; owner: string; repo: string; permissions?: Partial<TokenPermissions> }): number;
  /** Lifetime of installation tokens issued from now on (GitHub: one hour). */
  setAppTokenTtl(ms: number): void;
  /** Whether GitHub would show the commit as Verified (made through the Git Data API without an author). */
  isVerifiedCommit(owner: string, repo: string, sha: string): boolean;
  /** Installation tokens issued so far (leak scans look for them). */
  readonly appTokensIssued: string[];
  /** The checks (status contexts or check run names) a branch's rules require before a merge. */
  setRequiredChecks(owner: string, repo: string, branch: string, names: readonly string[]): void;
  /** Whether a branch's rules require a merge queue (GraphQL `mergeQueue(branch:)`, `enqueuePullRequest`). */
  setMergeQueue(owner: string, repo: string, branch: string, on: boolean): void;
  /** The repository's "Allow auto-merge" setting (GraphQL `autoMergeAllowed`, `enablePullRequestAutoMerge`). */
  setAutoMergeAllowed(owner: string, repo: string, allowed: boolean): void;
  /** Users and teams reviews may be requested from (GitHub: collaborators of the repo). */
  addCollaborators(owner: string, repo: string, who: { users?: string[]; teams?: string[] }): void;
  /** For `ms` after each push, the REST API does not see the pushed branch yet (422 on head). */
  setConsistencyLag(owner: string, repo: string, ms: number): void;
  /** Changes the rate limits enforced from now on. */
  setRateLimits(settings: Partial<RateLimitSettings>): void;
  /** Requests a rate limit refused so far, by reason (`primary`, `write_gap`, `content_per_minute`, …). */
  readonly rateLimitRefusals: Record<string, number>;
  /** Generated files (e.g. 20,000) written with `git fast-import`. */
  createLargeRepo(opts: CreateLargeRepoOptions): Promise<{ headSha: string }>;
  injectFaults(spec: FaultSpec): void;
  /** Holds the next matching request (see HeldRequest). */
  holdNext(match: { method?: string; path: RegExp; query?: RegExp; when: 'before' | 'after' }): HeldRequest;
  /** Faults a share of later requests at random (the first added spec whose path matches); `clearFaults` stops it. */
  injectRandomFaults(spec: RandomFaults): void;
  /** Faults handed out so far, by kind (`502`, `reset`, `dropAnswer`, `delay`, …). */
  readonly faultCounts: Record<string, number>;
  clearFaults(): void;
  /** Everything received, raw (tests grep them for tokens). */
  readonly requests: RecordedRequest[];
  /** The sandbox's clock: advancing it expires tokens and moves timestamps without a sleep. */
  readonly clock: SandboxClock;
  /** REST requests GitHub's OpenAPI description rejects; a passing suite expects none. */
  readonly validationFailures: string[];
  /**
   * Answers of the sandbox that GitHub's OpenAPI description rejects (a status it does not document
   * for the operation, or a body off its response schema). Never expected: `close` fails with them.
   */
  readonly answerFailures: string[];
  pulls(owner: string, repo: string): SandboxPull[];
  comments(owner: string, repo: string, issueNumber: number): SandboxComment[];
  /**
   * A repository webhook: `pull_request` events (opened, closed — merged or not —,
   * reopened) are POSTed to `settings.url`, signed with `settings.secret`; null removes it.
   * Returns the hook id.
   */
  configureWebhook(owner: string, repo: string, settings: WebhookSettings | null): number | undefined;
  /**
   * An organisation webhook: the events of every repository of `owner`, with one secret,
   * alongside any repository webhook; null removes it. Returns the hook id.
   */
  configureOrgWebhook(owner: string, settings: WebhookSettings | null): number | undefined;
  /** Sends GitHub's `ping` event to the organisation's hook: no repository, the organisation instead. */
  pingOrgWebhook(owner: string): void;
  /** Faults for the repo's next deliveries, in order (dropped, duplicated, delivered late). */
  injectWebhookFaults(owner: string, repo: string, faults: DeliveryFault[]): void;
  /** Sends GitHub's `ping` event to the repo's hook. */
  pingWebhook(owner: string, repo: string): void;
  /** Every delivery made or attempted so far, with the statuses the receiver answered. */
  readonly webhookDeliveries: SandboxDelivery[];
  /** Sends a delivery again, same id and body (GitHub's "Redeliver"); the receiver's status. */
  redeliverWebhook(id: string): Promise<number | undefined>;
  /** Resolves once every delivery queued so far was sent (or dropped, or is held for reordering). */
  webhooksSettled(): Promise<void>;
  /** Puts comments on a PR directly (fixtures), bypassing the API and its rate limits. */
  seedComments(owner: string, repo: string, issueNumber: number, bodies: string[]): void;
  /** Stops the server; rejects when any answer failed GitHub's response schemas (`answerFailures`). */
  close(): Promise<void>;
}

export interface StartGitHubSandboxOptions {
  /** Where bare repos live; a fresh temp dir (removed on close) when omitted. */
  rootDir?: string;
  /** Port on 127.0.0.1; a random free one when omitted (the demo uses a fixed one). */
  port?: number;
  /**
   * Serve github.com's layout over https under this hostname (e.g. `relyloop-sandbox.ghe.com`):
   * git and web on it, REST at the root of `api.{hostname}`.
   */
  tls?: { hostname: string };
  /** Rate limits on top of github.com's (rate-limits.ts). */
  rateLimits?: Partial<RateLimitSettings>;
  /** The sandbox's clock (clock.ts); a fresh one, at real time, when omitted. */
  clock?: SandboxClock;
}

// Config repo URLs (docs/api.md): only `https://github.com/{owner}/{repo}[.git]` or the same form on
// an allow-listed GitHub Enterprise host — or on an allow-listed Gitea/Forgejo host.
// Credentials, query, fragment, SSH and plain http are refused (http only for hosts explicitly
// allowed over http, e.g. a local sandbox or Gitea). From a valid URL we derive the REST, git and
// web endpoints.

export interface GitHubHostPolicy {
  /** Allowed hosts (lower case, optional :port), e.g. ['github.com', 'ghe.example.com']. */
  hosts: readonly string[];
  /** Allowed hosts reached over plain http. */
  httpHosts?: readonly string[];
}

/** The forges a config repo can live on: GitHub (and its Enterprise hosts), or Gitea/Forgejo. */
export const PROVIDERS = ['github', 'gitea'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** The allowed hosts of each forge (RELYLOOP_GITHUB_HOSTS, RELYLOOP_GITEA_HOSTS). */
export type ForgeHostPolicies = Record<Provider, GitHubHostPolicy>;

export interface GitHubRepoRef {
  /** Lower-cased host with port if any, e.g. `github.com`. */
  host: string;
  /** `{scheme}://{host}`. */
  origin: string;
  owner: string;
  repo: string;
  /** Canonical form: `{scheme}://{host}/{owner}/{repo}` (no `.git`). */
  url: string;
  /**
   * Octokit base URL: https://api.github.com (and api.{sub}.ghe.com), or `{scheme}://{host}/api/v3`
   * for Enterprise Server.
   */
  apiBaseUrl: string;
  /** Smart-HTTP clone URL. */
  gitUrl: string;
  /** Web URL of the repository (for PR links and raw chart URLs). */
  webUrl: string;
}

export type RepoUrlProblem = { kind: 'invalid'; message: string } | { kind: 'unsupported_provider'; message: string };

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
/** Gitea's user and organisation names: letters, digits, `-`, `_`, `.` (at most 40). */
const GITEA_OWNER = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,39})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

/** Parses a GitHub repo URL or returns why not; `invalid` maps to 422, `unsupported_provider` to 400. */
export function parseGitHubRepoUrl(input: string, policy: GitHubHostPolicy): GitHubRepoRef | RepoUrlProblem {
  return parseRepoUrlOf('github', input, policy);
}

/**
 * A config repo URL on any allowed forge, with the provider its host is listed for (a host is
 * listed for one forge only: domain/config.ts refuses it in both lists).
 */
export function parseRepoUrl(
  input: string,
  policies: ForgeHostPolicies,
): (GitHubRepoRef & { provider: Provider }) | RepoUrlProblem {
  const host = hostOf(input);
  const provider: Provider = host !== undefined && policies.gitea.hosts.includes(host) ? 'gitea' : 'github';
  const ref = parseRepoUrlOf(provider, input, policies[provider]);
  return isRepoUrlProblem(ref) ? ref : { ...ref, provider };
}

/** The repo URL of a config repo whose provider is known (the activities, the reconciliation). */
export function parseRepoUrlFor(
  provider: Provider,
  input: string,
  policies: ForgeHostPolicies,
): GitHubRepoRef | RepoUrlProblem {
  return parseRepoUrlOf(provider, input, policies[provider]);
}

function hostOf(input: string): string | undefined {
  try {
    return new URL(input).host.toLowerCase();
  } catch {
    return undefined;
  }
}

function parseRepoUrlOf(provider: Provider, input: string, policy: GitHubHostPolicy): GitHubRepoRef | RepoUrlProblem {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    // scp-like SSH (git@github.com:o/r.git) is not a URL at all.
    if (/^[\w.-]+@[\w.-]+:/.test(input))
      return { kind: 'unsupported_provider', message: 'SSH URLs are not supported; use https://' };
    return { kind: 'invalid', message: 'repo_url is not a valid URL' };
  }
  // The scheme is judged first: `ssh://git@github.com/…` is an unsupported provider (400), not
  // a URL with credentials (422).
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { kind: 'unsupported_provider', message: `${url.protocol}// URLs are not supported; use https://` };
  }
  if (url.username !== '' || url.password !== '')
    return { kind: 'invalid', message: 'repo_url must not carry credentials' };
  if (url.search !== '' || input.includes('?')) return { kind: 'invalid', message: 'repo_url must not have a query' };
  if (url.hash !== '' || input.includes('#')) return { kind: 'invalid', message: 'repo_url must not have a fragment' };
  const host = url.host.toLowerCase();
  const httpAllowed = (policy.httpHosts ?? []).includes(host);
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && httpAllowed);
  if (!schemeOk || !policy.hosts.includes(host)) {
    return {
      kind: 'unsupported_provider',
      message:
        provider === 'github'
          ? `only https://github.com/{owner}/{repo} and allow-listed GitHub Enterprise and Gitea hosts are supported (got ${url.protocol}//${host})`
          : `only allow-listed Gitea hosts (RELYLOOP_GITEA_HOSTS) are supported for a Gitea repo (got ${url.protocol}//${host})`,
    };
  }
  const segments = url.pathname.replace(/\/$/, '').split('/').slice(1);
  const [owner, rawRepo] = segments;
  const repo = rawRepo?.replace(/\.git$/, '');
  const ownerPattern = provider === 'github' ? OWNER : GITEA_OWNER;
  if (
    segments.length !== 2 ||
    owner === undefined ||
    repo === undefined ||
    !ownerPattern.test(owner) ||
    !REPO.test(repo) ||
    repo === '.' ||
    repo === '..'
  ) {
    return { kind: 'unsupported_provider', message: 'repo_url must be {scheme}://{host}/{owner}/{repo}' };
  }
  const origin = `${url.protocol}//${host}`;
  return {
    host,
    origin,
    owner,
    repo,
    url: `${origin}/${owner}/${repo}`,
    apiBaseUrl:
      provider === 'gitea'
        ? `${origin}/api/v1`
        : usesApiSubdomain(host)
          ? `${url.protocol}//api.${host}`
          : `${origin}/api/v3`,
    gitUrl: `${origin}/${owner}/${repo}.git`,
    webUrl: `${origin}/${owner}/${repo}`,
  };
}

/**
 * github.com and GitHub Enterprise Cloud with data residency (`{subdomain}.ghe.com`) serve REST at
 * the root of `api.{host}`; GitHub Enterprise Server serves it under `{host}/api/v3`.
 */
function usesApiSubdomain(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'github.com' || name.endsWith('.ghe.com');
}

/** `{origin}/{owner}/`: what every repo URL of that owner starts with (an organisation's webhook covers them). */
export function ownerPrefixOf(ref: GitHubRepoRef): string {
  return ref.url.slice(0, ref.url.length - ref.repo.length);
}

/**
 * The owner prefix (`{origin}/{owner}/`) of an owner's web URL (`https://github.com/acme`) or API
 * URL (`https://api.github.com/orgs/acme`, `https://ghe.example.com/api/v3/orgs/acme`) on an
 * allowed host; undefined for anything else. Webhook payloads name an organisation by its API URL
 * and an App installation's account by its web URL.
 */
export function parseGitHubOwnerUrl(input: string, policy: GitHubHostPolicy): string | undefined {
  const web = parseGitHubRepoUrl(`${input.replace(/\/$/, '')}/x`, policy);
  if (!isRepoUrlProblem(web)) return ownerPrefixOf(web);
  for (const host of policy.hosts) {
    const scheme = (policy.httpHosts ?? []).includes(host) && !input.startsWith('https:') ? 'http' : 'https';
    const ref = parseGitHubRepoUrl(`${scheme}://${host}/x/y`, policy);
    if (isRepoUrlProblem(ref)) continue;
    // The scheme is not compared: it only chooses whose secrets a signature is checked against
    // (one of GitHub's own example payloads names an organisation by an http:// API URL).
    const orgs = `${ref.apiBaseUrl}/orgs/`.replace(/^https?:/, '');
    const rest = input.replace(/^https?:/, '');
    if (!rest.toLowerCase().startsWith(orgs.toLowerCase())) continue;
    const owner = parseGitHubRepoUrl(`${scheme}://${host}/${rest.slice(orgs.length).replace(/\/$/, '')}/x`, policy);
    return isRepoUrlProblem(owner) ? undefined : ownerPrefixOf(owner);
  }
  return undefined;
}

export function isRepoUrlProblem(value: GitHubRepoRef | RepoUrlProblem): value is RepoUrlProblem {
  return 'kind' in value;
}

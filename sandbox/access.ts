// Who may do what, the way GitHub decides it:
// - A token GitHub does not know is 401 "Bad credentials" (REST) or 401 (git).
// - A known token asking for a private repository it cannot see gets 404, never 403: GitHub hides
//   private repositories ("404 Not Found for an existing resource",
//   https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#404-not-found-for-an-existing-resource).
//   Over git that is `remote: Repository not found.` with HTTP 404.
// - A token that sees the repository but lacks the permission an endpoint needs gets 403
//   "Resource not accessible by integration" (installation tokens) or "… by personal access token"
//   (fine-grained PATs) (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible;
//   permissions per endpoint: https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps).
//   A push without contents:write is 403 `Permission to {owner}/{repo}.git denied to {user}.`
import { DOCS } from './rest-json.js';
import type { RepoRecord } from './repos.js';
import type { TokenPermissions } from './types.js';

export const FULL_ACCESS: TokenPermissions = {
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
  checks: 'write',
  statuses: 'write',
};

type Level = 'none' | 'read' | 'write';
const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };

/** What one REST route needs: any one of these permission/level pairs (GitHub's table). */
export type Requirement = { [K in keyof TokenPermissions]?: 'read' | 'write' } | 'metadata';

export function satisfies(grant: TokenPermissions, need: Requirement): boolean {
  if (need === 'metadata') return true; // every grant on a repo includes metadata:read
  return Object.entries(need).some(
    ([perm, level]) => RANK[grant[perm as keyof TokenPermissions] ?? 'none'] >= RANK[level as Level],
  );
}

export type Access = { kind: 'unknown_token' } | { kind: 'hidden' } | { kind: 'granted'; grant: TokenPermissions };

/** A token's standing on `owner/repo` (which need not exist). */
export function accessOf(repos: Map<string, RepoRecord>, knownTokens: Set<string>, key: string, token: string): Access {
  const repo = repos.get(key);
  const grant = repo?.access.get(token);
  if (grant !== undefined) return { kind: 'granted', grant };
  const known = knownTokens.has(token) || [...repos.values()].some((r) => r.access.has(token));
  return known ? { kind: 'hidden' } : { kind: 'unknown_token' };
}

export function notAccessible(token: string, docs: string): { status: number; body: Record<string, unknown> } {
  const who = token.startsWith('github_pat_') || token.startsWith('ghp_') ? 'personal access token' : 'integration';
  return {
    status: 403,
    body: { message: `Resource not accessible by ${who}`, documentation_url: docs, status: '403' },
  };
}

export const REST_DOCS = DOCS;

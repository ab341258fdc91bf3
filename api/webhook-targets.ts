// Whom a webhook delivery (GitHub's, or Gitea's and Forgejo's GitHub-compatible one) is about, and
// whose secrets may have signed it: a repository webhook signs with the secret of the config repos
// naming that repository; an organisation's webhook, or a GitHub App's, signs every repository's
// events — and its own ping — with one secret, which the operator gives to the config repos under
// that owner (or using that App). Nothing here is trusted: it only chooses which secrets the
// signature is checked against.
import type { SqlScope } from '../db/sql.js';
import { findConfigReposByApp, findConfigReposByOwner, findConfigReposByUrl } from '../db/pr-lifecycle.js';
import { hostPoliciesOf, type Config } from '../domain/config.js';
import { isRepoUrlProblem, ownerPrefixOf, parseGitHubOwnerUrl, parseRepoUrl } from '../domain/github-url.js';

/**
 * What a payload is about: the repository it names (matched exactly against config repos), and
 * the owner or App whose webhook may have sent it — an organisation's or a GitHub App's webhook
 * signs every repository's events, and its own, with one secret. Undefined when it
 * names nothing on an allowed GitHub host.
 */
export interface WebhookTarget {
  repoUrl?: string;
  ownerPrefix?: string;
  appId?: number;
  label: string;
}

export function targetOf(payload: unknown, config: Config): WebhookTarget | undefined {
  const p = payload as {
    repository?: { html_url?: unknown };
    organization?: { url?: unknown };
    installation?: { account?: { html_url?: unknown } };
    hook?: { app_id?: unknown };
  };
  const policies = hostPoliciesOf(config);
  const text = (value: unknown) => (typeof value === 'string' && value.length <= 2048 ? value : undefined);
  const repository = text(p.repository?.html_url);
  if (repository !== undefined) {
    // A repository on any allowed forge: Gitea and Forgejo send `repository.html_url` as GitHub does.
    const ref = parseRepoUrl(repository, policies);
    return isRepoUrlProblem(ref) ? undefined : { repoUrl: ref.url, ownerPrefix: ownerPrefixOf(ref), label: ref.url };
  }
  // No repository: an event of an organisation (its API URL) or of an App installation's account (its web URL).
  for (const url of [text(p.organization?.url), text(p.installation?.account?.html_url)]) {
    const ownerPrefix = url === undefined ? undefined : parseGitHubOwnerUrl(url, policies.github);
    if (ownerPrefix !== undefined) return { ownerPrefix, label: ownerPrefix };
  }
  // A GitHub App's own ping names only the App.
  const appId = p.hook?.app_id;
  return typeof appId === 'number' && Number.isSafeInteger(appId) ? { appId, label: `GitHub App ${appId}` } : undefined;
}

/** Config repos whose secrets may have signed a delivery: the repository's own, else its owner's or App's. */
export async function candidateRepos(
  db: SqlScope,
  target: WebhookTarget,
): Promise<{ exact: boolean; repos: { id: string; webhookSecretRef: string | null }[] }> {
  const exact = target.repoUrl === undefined ? [] : await findConfigReposByUrl(db, target.repoUrl);
  if (exact.length > 0) return { exact: true, repos: exact };
  if (target.ownerPrefix !== undefined)
    return { exact: false, repos: await findConfigReposByOwner(db, target.ownerPrefix) };
  return { exact: false, repos: target.appId === undefined ? [] : await findConfigReposByApp(db, target.appId) };
}

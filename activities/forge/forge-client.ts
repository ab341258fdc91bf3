// The forge port (domain/forge.ts) for a config repo: GitHub's Octokit client or the Gitea/Forgejo
// client, picked by the repo's provider. A client per call: the token is read fresh
// from its secret file, so a rotated token takes effect on the next attempt.
import { createGiteaClient } from '../../adapters/gitea/gitea-client.js';
import type { ForgePullRequests } from '../../domain/forge.js';
import type { GitHubPacer } from '../../domain/github-pacing.js';
import { tryCurrentContext } from '../../runtime/activity-context.js';
import { createGitHubClient, type CreateGitHubClientOptions } from '../../adapters/github/github-client.js';
import type { Redactor } from '../../domain/redact.js';
import type { GitHubLimiterOptions } from '../../adapters/github/octokit-client.js';
import { resolveRepoAccess, type RepoAccess, type RepoAccessDeps } from '../repo-access.js';
import type { ConfigRepoRef } from '../types.js';

export interface ForgeClientDeps extends RepoAccessDeps {
  /** One pacer for every GitHub client of this process: a token's writes are paced across steps and runs. */
  pacer: GitHubPacer;
  /** The same for Gitea tokens (RELYLOOP_GITEA_WRITE_GAP); unpaced when omitted. */
  giteaPacer?: GitHubPacer;
  /** Tests shorten GitHub's write spacing; production leaves it unset (docs/architecture.md "Forge behaviour"). */
  limiter?: GitHubLimiterOptions;
}

export interface ForgeClient {
  pulls: ForgePullRequests;
  access: RepoAccess;
}

export async function forgeClientFor(deps: ForgeClientDeps, repo: ConfigRepoRef): Promise<ForgeClient> {
  const access = await resolveRepoAccess(deps, repo);
  const { ref, token } = access;
  if (access.provider === 'gitea') {
    const pulls = createGiteaClient({
      origin: ref.origin,
      token,
      owner: ref.owner,
      repo: ref.repo,
      redactor: deps.redactor,
      ...(deps.giteaPacer === undefined ? {} : { pacer: deps.giteaPacer }),
      warn: (m) => tryCurrentContext()?.log.warn(deps.redactor.redactString(m)),
    });
    return { pulls, access };
  }
  const pulls = createGitHubClient(githubOptionsOf(access, deps));
  return { pulls, access };
}

/** What a GitHub client of this repo is made with: its API, the token read for it, and the pacing. */
export function githubOptionsOf(
  { ref, token }: RepoAccess,
  deps: { redactor: Redactor; pacer: GitHubPacer; limiter?: GitHubLimiterOptions | undefined },
): CreateGitHubClientOptions {
  return {
    apiBaseUrl: ref.apiBaseUrl,
    token,
    owner: ref.owner,
    repo: ref.repo,
    redactor: deps.redactor,
    pacer: deps.pacer,
    ...(deps.limiter ? { limiter: deps.limiter } : {}),
  };
}

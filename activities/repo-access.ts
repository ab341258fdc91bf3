// Resolves a config repo to what the git and forge adapters need, reading its credential from the
// secrets dir inside the activity (docs/architecture.md "Security rules"): a personal token from
// `{secrets_dir}/{auth_ref}` (GitHub or Gitea), or — for a repo that authenticates as a GitHub App
// — an installation token minted from the App's private key (app-tokens.ts). Every secret is
// registered for redaction and never returned to workflow code.
import { AppError } from '../domain/errors.js';
import {
  isRepoUrlProblem,
  parseRepoUrlFor,
  type ForgeHostPolicies,
  type GitHubRepoRef,
  type Provider,
} from '../domain/github-url.js';
import type { Redactor } from '../domain/redact.js';
import { readSecret, SecretError } from '../adapters/secrets.js';
import type { AppTokenSource } from '../adapters/github/app-tokens.js';
import type { ConfigRepoRef } from './types.js';

export interface RepoAccessDeps {
  secretsDir: string;
  redactor: Redactor;
  /** The hosts config repos may live on, per forge (domain/config.ts hostPoliciesOf). */
  hostPolicies: ForgeHostPolicies;
  /** Mints and keeps GitHub App installation tokens (one per process). */
  appTokens: AppTokenSource;
}

export interface RepoAccess {
  provider: Provider;
  ref: GitHubRepoRef;
  token: string;
}

async function readCredentialFile(deps: RepoAccessDeps, ref: string, what: string): Promise<string> {
  try {
    return await readSecret(deps.secretsDir, ref, deps.redactor);
  } catch (error) {
    if (error instanceof SecretError) {
      throw new AppError({
        code: 'GITHUB_AUTH_FAILED',
        message: `${what} "${ref}" is unusable (${error.status.replaceAll('_', ' ')})`,
      });
    }
    throw error;
  }
}

export async function resolveRepoAccess(deps: RepoAccessDeps, repo: ConfigRepoRef): Promise<RepoAccess> {
  const { provider } = repo;
  const ref = parseRepoUrlFor(provider, repo.repoUrl, deps.hostPolicies);
  if (isRepoUrlProblem(ref))
    throw new AppError({ code: 'CLONE_FAILED', message: `config repo URL is not usable: ${ref.message}` });
  if (repo.app !== undefined) {
    if (provider !== 'github')
      throw new AppError({
        code: 'GITHUB_AUTH_FAILED',
        message: 'a GitHub App cannot authenticate to a Gitea repo; give it an auth_ref token file',
      });
    const privateKey = await readCredentialFile(deps, repo.app.privateKeyRef, 'the GitHub App private key file');
    const token = await deps.appTokens.installationToken(
      { appId: repo.app.appId, privateKey, installationId: repo.app.installationId },
      { apiBaseUrl: ref.apiBaseUrl, owner: ref.owner, repo: ref.repo },
    );
    return { provider, ref, token };
  }
  if (repo.authRef === null)
    throw new AppError({
      code: 'GITHUB_AUTH_FAILED',
      message: 'the config repo has neither an auth_ref nor a GitHub App',
    });
  return { provider, ref, token: await readCredentialFile(deps, repo.authRef, 'token file for auth_ref') };
}

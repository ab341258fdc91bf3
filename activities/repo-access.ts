// Resolves a config repo to what the git and GitHub adapters need, reading its credential from the
// secrets dir inside the activity (SPEC §6): a personal token from `{secrets_dir}/{auth_ref}`, or —
// for a repo that authenticates as a GitHub App (issue 14) — an installation token minted from the
// App's private key (app-tokens.ts). Every secret is registered for redaction and never returned
// to workflow code.
import { AppError } from '../domain/errors.js';
import { isRepoUrlProblem, parseGitHubRepoUrl, type GitHubHostPolicy, type GitHubRepoRef } from '../domain/github-url.js';
import type { Redactor } from '../domain/redact.js';
import { readSecret, SecretError } from '../adapters/secrets.js';
import type { AppTokenSource } from './github/app-tokens.js';
import type { ConfigRepoRef } from './types.js';

export interface RepoAccessDeps {
  secretsDir: string;
  redactor: Redactor;
  hostPolicy: GitHubHostPolicy;
  /** Mints and keeps GitHub App installation tokens (one per process). */
  appTokens: AppTokenSource;
}

export interface RepoAccess {
  ref: GitHubRepoRef;
  token: string;
}

async function readCredentialFile(deps: RepoAccessDeps, ref: string, what: string): Promise<string> {
  try {
    return await readSecret(deps.secretsDir, ref, deps.redactor);
  } catch (error) {
    if (error instanceof SecretError) {
      throw new AppError({ code: 'GITHUB_AUTH_FAILED', message: `${what} "${ref}" is unusable (${error.status.replaceAll('_', ' ')})` });
    }
    throw error;
  }
}

export async function resolveRepoAccess(deps: RepoAccessDeps, repo: ConfigRepoRef): Promise<RepoAccess> {
  const ref = parseGitHubRepoUrl(repo.repoUrl, deps.hostPolicy);
  if (isRepoUrlProblem(ref)) throw new AppError({ code: 'CLONE_FAILED', message: `config repo URL is not usable: ${ref.message}` });
  if (repo.app !== undefined) {
    const privateKey = await readCredentialFile(deps, repo.app.privateKeyRef, 'the GitHub App private key file');
    const token = await deps.appTokens.installationToken(
      { appId: repo.app.appId, privateKey, installationId: repo.app.installationId },
      { apiBaseUrl: ref.apiBaseUrl, owner: ref.owner, repo: ref.repo },
    );
    return { ref, token };
  }
  if (repo.authRef === null) throw new AppError({ code: 'GITHUB_AUTH_FAILED', message: 'the config repo has neither an auth_ref nor a GitHub App' });
  return { ref, token: await readCredentialFile(deps, repo.authRef, 'token file for auth_ref') };
}

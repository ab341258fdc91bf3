// Resolves a config repo to what the git and GitHub adapters need, reading its token from the
// secrets dir inside the activity (SPEC §6): the token is registered for redaction and never
// returned to workflow code.
import { AppError } from '../domain/errors.js';
import { isRepoUrlProblem, parseGitHubRepoUrl, type GitHubHostPolicy, type GitHubRepoRef } from '../domain/github-url.js';
import type { Redactor } from '../domain/redact.js';
import { readSecret, SecretError } from '../adapters/secrets.js';
import type { ConfigRepoRef } from './types.js';

export interface RepoAccessDeps {
  secretsDir: string;
  redactor: Redactor;
  hostPolicy: GitHubHostPolicy;
}

export interface RepoAccess {
  ref: GitHubRepoRef;
  token: string;
}

export async function resolveRepoAccess(deps: RepoAccessDeps, repo: ConfigRepoRef): Promise<RepoAccess> {
  const ref = parseGitHubRepoUrl(repo.repoUrl, deps.hostPolicy);
  if (isRepoUrlProblem(ref)) throw new AppError({ code: 'CLONE_FAILED', message: `config repo URL is not usable: ${ref.message}` });
  try {
    return { ref, token: await readSecret(deps.secretsDir, repo.authRef, deps.redactor) };
  } catch (error) {
    if (error instanceof SecretError) {
      throw new AppError({ code: 'GITHUB_AUTH_FAILED', message: `token file for auth_ref "${repo.authRef}" is unusable (${error.status.replaceAll('_', ' ')})` });
    }
    throw error;
  }
}

// GitHub App authentication: a config repo may authenticate as an App installation
// instead of with a personal token. Inside each activity attempt the installation token is taken
// from this process's memory, or minted with @octokit/auth-app — a JWT signed with the App's
// private key, exchanged at POST /app/installations/{id}/access_tokens — when there is none or it
// has less than a quarter of its life (at most 5 minutes) left. Tokens are never persisted and
// never reach workflow history. The key and every JWT are registered with the redactor by the
// signer (app-jwt.ts), each installation token here as soon as GitHub hands it out.
//   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
import { createHash } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { AppError } from '../../domain/errors.js';
import type { Redactor } from '../../domain/redact.js';
import { tryCurrentContext } from '../../runtime/activity-context.js';
import { createAppJwtSigner } from './app-jwt.js';
import { classifyGitHubFailure } from './errors.js';

export interface AppCredentials {
  appId: number;
  /** PEM, read from the secrets dir by the caller. */
  privateKey: string;
  /** Discovered from the repository (GET /repos/{o}/{r}/installation) when null. */
  installationId: number | null;
}

export interface AppTokenSource {
  /** An installation token for `owner/repo`, valid for a while yet. */
  installationToken(
    creds: AppCredentials,
    target: { apiBaseUrl: string; owner: string; repo: string },
  ): Promise<string>;
}

/** A token is renewed when less than this share of its life, or 5 minutes, is left. */
const RENEW_AT_REMAINING_SHARE = 0.25;
const RENEW_AT_REMAINING_MAX_MS = 5 * 60_000;

interface Cached {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

export function createAppTokenSource(deps: { redactor: Redactor; now?: () => number }): AppTokenSource {
  const now = deps.now ?? Date.now;
  const tokens = new Map<string, Cached>();
  const installations = new Map<string, number>();
  const pending = new Map<string, Promise<string>>();
  const signer = createAppJwtSigner({ redactor: deps.redactor, now });
  // Octokit's and auth-app's log: warnings and errors to the running activity's (JSON) log, redacted;
  // request lines dropped (the failures they describe surface as errors).
  const toActivityLog = (level: 'warn' | 'error') => (message: unknown) =>
    tryCurrentContext()?.log[level](deps.redactor.redactString(String(message)));
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: toActivityLog('warn'),
    error: toActivityLog('error'),
  };

  const fresh = (c: Cached | undefined) =>
    c !== undefined &&
    c.expiresAt - now() > Math.min(RENEW_AT_REMAINING_MAX_MS, (c.expiresAt - c.issuedAt) * RENEW_AT_REMAINING_SHARE);

  async function mint(
    creds: AppCredentials,
    target: { apiBaseUrl: string; owner: string; repo: string },
    cacheKey: string,
  ): Promise<string> {
    const request = new Octokit({
      baseUrl: target.apiBaseUrl,
      userAgent: 'relyloop-pr',
      headers: { 'x-github-api-version': '2022-11-28' },
      log,
    }).request;
    const auth = createAppAuth({ appId: creds.appId, createJwt: signer.createJwt(creds.privateKey), request, log });
    // Failures read "GitHub App 123 token for acme/config failed: …" (classifyGitHubFailure adds "GitHub").
    const operation = `App ${creds.appId} token for ${target.owner}/${target.repo}`;
    try {
      const installKey = `${target.apiBaseUrl}|${creds.appId}|${target.owner}/${target.repo}`;
      let installationId = creds.installationId ?? installations.get(installKey);
      if (installationId === undefined) {
        const { token: jwt } = await auth({ type: 'app' });
        const { data } = await request('GET /repos/{owner}/{repo}/installation', {
          owner: target.owner,
          repo: target.repo,
          headers: { authorization: `bearer ${jwt}` },
        });
        installationId = data.id;
        installations.set(installKey, installationId);
      }
      const minted = await auth({ type: 'installation', installationId, refresh: true });
      deps.redactor.register(minted.token);
      const issuedAt = now();
      tokens.set(cacheKey, { token: minted.token, issuedAt, expiresAt: Date.parse(minted.expiresAt) });
      return minted.token;
    } catch (error) {
      if (error instanceof AppError) throw error;
      const failure = classifyGitHubFailure(error, operation, deps.redactor, now());
      // A wrong key or App id (401) and an App not installed on the repository (404) do not heal.
      if (failure.upstreamStatus === 401 || failure.upstreamStatus === 404) {
        const why =
          failure.upstreamStatus === 404
            ? 'the App is not installed on the repository, or the installation id is wrong'
            : "GitHub refused the App's JWT: a wrong app id or private key";
        const upstream = String((error as { message?: unknown }).message ?? '');
        throw new AppError({
          code: 'GITHUB_AUTH_FAILED',
          upstreamStatus: failure.upstreamStatus,
          operation,
          message: deps.redactor.redactString(
            `GitHub ${operation} failed: ${failure.upstreamStatus} ${upstream} (${why})`,
          ),
        });
      }
      throw failure;
    }
  }

  return {
    async installationToken(creds, target) {
      const keyHash = createHash('sha256').update(creds.privateKey).digest('hex').slice(0, 16);
      const cacheKey = `${target.apiBaseUrl}|${creds.appId}|${keyHash}|${creds.installationId ?? `${target.owner}/${target.repo}`}`;
      const cached = tokens.get(cacheKey);
      if (fresh(cached)) return (cached as Cached).token;
      // One mint at a time per installation: concurrent steps share it.
      const inFlight = pending.get(cacheKey);
      if (inFlight !== undefined) return inFlight;
      const minting = mint(creds, target, cacheKey).finally(() => pending.delete(cacheKey));
      pending.set(cacheKey, minting);
      return minting;
    },
  };
}

// GitHub Apps in the sandbox: an App authenticates with a JWT it signs with its private
// key (RS256, `iss` = the App's id, at most 10 minutes long), finds its installation on a
// repository, and exchanges the JWT for an installation access token (`ghs_…`) that expires —
// after an hour on GitHub, sooner here when a test asks. An expired token is unknown to the
// sandbox from then on (401 Bad credentials over REST and git).
//   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
//   https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
//   https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { SandboxClock } from './clock.js';
import { DOCS, userJson, type JsonContext } from './rest-json.js';
import type { RepoRecord } from './repos.js';
import type { TokenPermissions } from './types.js';

export interface AppAnswer {
  status: number;
  body?: unknown;
}

interface Installation {
  id: number;
  appId: number;
  owner: string;
  repos: Set<string>;
  permissions: TokenPermissions;
}

const ACCESS_TOKENS = /^\/app\/installations\/(\d+)\/access_tokens$/;
const REPO_INSTALLATION = /^\/repos\/([^/]+)\/([^/]+)\/installation$/;
/** GitHub refuses a JWT whose lifetime exceeds ten minutes. */
const MAX_JWT_LIFETIME_S = 600;
/** …and tolerates a minute of clock drift on `iat`. */
const CLOCK_DRIFT_S = 60;

export class AppRegistry {
  private readonly apps = new Map<number, KeyObject>();
  private readonly installations = new Map<number, Installation>();
  private readonly expiries = new Map<string, number>();
  private readonly tokenApps = new Map<string, number>();
  private nextInstallationId = 61_000_001;
  /** Installation tokens issued so far (tests scan for them). */
  readonly issuedTokens: string[] = [];
  tokenTtlMs = 3_600_000;

  constructor(
    private readonly deps: {
      repos: Map<string, RepoRecord>;
      knownTokens: Set<string>;
      clock: SandboxClock;
      origin: () => string;
      apiBase: () => string;
    },
  ) {}

  /** A new App; its private key in PEM (PKCS#1, as GitHub hands it out). */
  createApp(appId: number): { appId: number; privateKeyPem: string } {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.apps.set(appId, publicKey);
    return { appId, privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
  }

  /** Installs the App on a repository (one installation per App and owner); its id. */
  install(appId: number, owner: string, repo: string, permissions: TokenPermissions): number {
    if (!this.apps.has(appId)) throw new Error(`no sandbox app ${appId}`);
    const existing = [...this.installations.values()].find((i) => i.appId === appId && i.owner === owner);
    const installation = existing ?? {
      id: this.nextInstallationId++,
      appId,
      owner,
      repos: new Set<string>(),
      permissions,
    };
    installation.repos.add(`${owner}/${repo}`);
    installation.permissions = permissions;
    this.installations.set(installation.id, installation);
    return installation.id;
  }

  /** Who a token acts as when it writes: an App's bot, or the token's user. */
  actorOf(token: string): { name: string; email: string } {
    const appId = this.tokenApps.get(token);
    return appId === undefined
      ? { name: 'token-user', email: 'token-user@users.noreply.github.com' }
      : { name: `app-${appId}[bot]`, email: `${appId}+app-${appId}[bot]@users.noreply.github.com` };
  }

  /** Forgets tokens past their expiry: from then on they are unknown (401). */
  sweep(now = this.deps.clock.now()): void {
    for (const [token, expiresAt] of this.expiries) {
      if (now < expiresAt) continue;
      this.expiries.delete(token);
      this.deps.knownTokens.delete(token);
      for (const repo of this.deps.repos.values()) repo.access.delete(token);
    }
  }

  /** The answer to an App endpoint, or undefined when `pathname` is not one. */
  handle(method: string, pathname: string, authorization: string | undefined): AppAnswer | undefined {
    const tokens = ACCESS_TOKENS.exec(pathname);
    const lookup = REPO_INSTALLATION.exec(pathname);
    if (!(method === 'POST' && tokens) && !(method === 'GET' && lookup)) return undefined;
    const jwt = this.verifyJwt(authorization);
    if ('status' in jwt) return jwt;
    if (tokens) {
      const installation = this.installations.get(Number(tokens[1]));
      if (installation === undefined || installation.appId !== jwt.appId) return notFound();
      return { status: 201, body: this.issueToken(installation) };
    }
    const key = `${lookup?.[1]}/${lookup?.[2]}`;
    const installation = [...this.installations.values()].find((i) => i.appId === jwt.appId && i.repos.has(key));
    const repo = this.deps.repos.get(key);
    if (installation === undefined || repo === undefined) return notFound();
    return {
      status: 200,
      body: installationJson({ origin: this.deps.origin(), api: this.deps.apiBase(), repo }, installation),
    };
  }

  private issueToken(installation: Installation): Record<string, unknown> {
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const expiresAt = this.deps.clock.now() + this.tokenTtlMs;
    this.expiries.set(token, expiresAt);
    this.tokenApps.set(token, installation.appId);
    this.issuedTokens.push(token);
    this.deps.knownTokens.add(token);
    for (const key of installation.repos) this.deps.repos.get(key)?.access.set(token, { ...installation.permissions });
    return {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { ...installation.permissions, metadata: 'read' },
      repository_selection: 'selected',
    };
  }

  /** GitHub's checks of an App's JWT: RS256 by the App's key, `iss` the App, at most 10 minutes, not expired. */
  private verifyJwt(authorization: string | undefined): { appId: number } | AppAnswer {
    const jwt = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const undecodable = unauthorized('A JSON web token could not be decoded');
    if (jwt === undefined) return undecodable;
    const [head, body, signature] = jwt.split('.');
    if (head === undefined || body === undefined || signature === undefined) return undecodable;
    let header: { alg?: unknown };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return undecodable;
    }
    const appId = Number(claims.iss);
    const key = this.apps.get(appId);
    if (header.alg !== 'RS256' || key === undefined) return undecodable;
    if (!verify('sha256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url'))) {
      return undecodable;
    }
    const now = Math.floor(this.deps.clock.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      return unauthorized(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    if (typeof claims.iat !== 'number' || claims.iat > now + CLOCK_DRIFT_S)
      return unauthorized(
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      );
    if (claims.exp - claims.iat > MAX_JWT_LIFETIME_S + CLOCK_DRIFT_S)
      return unauthorized("'Expiration time' claim ('exp') is too far in the future");
    return { appId };
  }
}

function installationJson(ctx: JsonContext, i: Installation): Record<string, unknown> {
  return {
    id: i.id,
    app_id: i.appId,
    app_slug: `app-${i.appId}`,
    target_id: 2,
    target_type: 'Organization',
    account: userJson(ctx, i.owner, 2, 'Organization'),
    repository_selection: 'selected',
    access_tokens_url: `${ctx.api}/app/installations/${i.id}/access_tokens`,
    html_url: `${ctx.origin}/organizations/${i.owner}/settings/installations/${i.id}`,
    repositories_url: `${ctx.api}/installation/repositories`,
    suspended_by: null,
    suspended_at: null,
    permissions: { ...i.permissions, metadata: 'read' },
    events: [],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    single_file_name: null,
  };
}

function unauthorized(message: string): AppAnswer {
  return { status: 401, body: { message, documentation_url: `${DOCS}/apps/apps`, status: '401' } };
}

function notFound(): AppAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: `${DOCS}/apps/apps`, status: '404' } };
}

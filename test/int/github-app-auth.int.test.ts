// GitHub App auth against the sandbox: the sandbox verifies the App's JWT (RS256 with
// the App's public key) and issues expiring `ghs_` installation tokens; the service mints one,
// keeps it in memory while it is fresh, mints again near expiry, looks the installation up when
// it is not configured, and turns a wrong key or a missing installation into GITHUB_AUTH_FAILED.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createAppTokenSource, type AppCredentials } from '../../adapters/github/app-tokens.js';
import { base64Forms, Redactor } from '../../domain/redact.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import type { CredentialEcho } from '../../sandbox/types.js';
import { leakFormsOf, scanTexts } from '../support/leak-scan.js';

const PAT = `ghp_${'AppT0kens'.repeat(4)}`;
const APP_ID = 424242;
let sandbox: GitHubSandbox;
let key = '';
let installationId = 0;

const mints = () =>
  sandbox.requests.filter((r) => r.method === 'POST' && /\/app\/installations\/\d+\/access_tokens$/.test(r.path));
const lookups = () => sandbox.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/installation'));
const target = () => ({ apiBaseUrl: sandbox.apiBaseUrl, owner: 'acme', repo: 'app-repo' });

async function repoStatus(token: string): Promise<number> {
  const res = await fetch(`${sandbox.apiBaseUrl}/repos/acme/app-repo`, {
    headers: { authorization: `token ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({ owner: 'acme', repo: 'app-repo', token: PAT, files: { 'a.json': '{}\n' } });
  await sandbox.createRepo({ owner: 'acme', repo: 'not-installed', token: PAT, files: { 'a.json': '{}\n' } });
  key = sandbox.createApp(APP_ID).privateKeyPem;
  installationId = sandbox.installApp({ appId: APP_ID, owner: 'acme', repo: 'app-repo' });
});
afterAll(async () => sandbox.close());

describe('installation tokens', () => {
  test('minted once, kept while fresh, minted again near expiry; an expired token is refused', async () => {
    sandbox.setAppTokenTtl(4_000);
    const redactor = new Redactor();
    const source = createAppTokenSource({ redactor, now: () => sandbox.clock.now() });
    const creds: AppCredentials = { appId: APP_ID, privateKey: key, installationId };
    const before = mints().length;
    const first = await source.installationToken(creds, target());
    expect(first).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(await source.installationToken(creds, target())).toBe(first);
    expect(mints().length - before).toBe(1);
    expect(await repoStatus(first)).toBe(200);

    // A quarter of its 4 s life left: the next call mints a new one.
    sandbox.clock.advance(3_200);
    const second = await source.installationToken(creds, target());
    expect(second).not.toBe(first);
    expect(mints().length - before).toBe(2);
    sandbox.clock.advance(900);
    expect(await repoStatus(first)).toBe(401);
    expect(await repoStatus(second)).toBe(200);
    // Token, key and JWTs are registered for redaction.
    expect(redactor.redactString(`t=${second} k=${key}`)).not.toContain(second);
    expect(redactor.redactString(key)).not.toContain(key.split('\n')[1] as string);
    sandbox.setAppTokenTtl(3_600_000);
  }, 20_000);

  test('without an installation id the installation is looked up once per repository', async () => {
    const source = createAppTokenSource({ redactor: new Redactor() });
    const before = lookups().length;
    const token = await source.installationToken({ appId: APP_ID, privateKey: key, installationId: null }, target());
    expect(await repoStatus(token)).toBe(200);
    expect(lookups().length - before).toBe(1);
    expect(sandbox.validationFailures).toEqual([]);
  });

  test('concurrent steps share one mint', async () => {
    const source = createAppTokenSource({ redactor: new Redactor() });
    const before = mints().length;
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () =>
        source.installationToken({ appId: APP_ID, privateKey: key, installationId }, target()),
      ),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(mints().length - before).toBe(1);
  });

  test("a key that is not the App's, and an App not installed on the repo, are GITHUB_AUTH_FAILED; nothing is printed beside the JSON log", async () => {
    const printed: unknown[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        printed.push(args);
      }),
    );
    try {
      await refusals();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(printed).toEqual([]);
  });

  async function refusals(): Promise<void> {
    const source = createAppTokenSource({ redactor: new Redactor() });
    const wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    await expect(
      source.installationToken({ appId: APP_ID, privateKey: wrongKey, installationId }, target()),
    ).rejects.toMatchObject({ code: 'GITHUB_AUTH_FAILED', upstreamStatus: 401, retryable: false });
    await expect(
      source.installationToken(
        { appId: APP_ID, privateKey: key, installationId: null },
        { ...target(), repo: 'not-installed' },
      ),
    ).rejects.toMatchObject({
      code: 'GITHUB_AUTH_FAILED',
      upstreamStatus: 404,
      message: `GitHub App ${APP_ID} token for acme/not-installed failed: 404 Not Found - https://docs.github.com/rest/apps/apps (the App is not installed on the repository, or the installation id is wrong)`,
    });
  }

  test('the sandbox refuses JWTs GitHub refuses: unsigned, expired, too long-lived', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const signed = (claims: object) => {
      const unsignedPart = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
      return `${unsignedPart}.${sign('sha256', Buffer.from(unsignedPart), key).toString('base64url')}`;
    };
    const ask = async (jwt: string) => {
      const res = await fetch(`${sandbox.apiBaseUrl}/app/installations/${installationId}/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}` },
      });
      return { status: res.status, message: ((await res.json()) as { message: string }).message };
    };
    expect(await ask(`${b64({ alg: 'none' })}.${b64({ iss: APP_ID, iat: now, exp: now + 60 })}.`)).toEqual({
      status: 401,
      message: 'A JSON web token could not be decoded',
    });
    expect(await ask(signed({ iss: APP_ID, iat: now - 700, exp: now - 100 }))).toMatchObject({
      status: 401,
      message: expect.stringContaining("'exp'"),
    });
    expect(await ask(signed({ iss: APP_ID, iat: now, exp: now + 3_600 }))).toMatchObject({
      status: 401,
      message: expect.stringContaining('too far in the future'),
    });
    expect(await ask(signed({ iss: APP_ID + 1, iat: now, exp: now + 60 }))).toMatchObject({ status: 401 });
    expect((await ask(signed({ iss: APP_ID, iat: now - 30, exp: now + 540 }))).status).toBe(201);
  });
});

describe('every credential derived from the key is registered before it is sent', () => {
  /** The credentials (JWTs) the sandbox received on App endpoints since `from`. */
  const jwtsSentSince = (from: number) =>
    sandbox.requests
      .slice(from)
      .filter((r) => /\/app\/installations\/\d+\/access_tokens$|\/installation$/.test(r.path))
      .map((r) => /^bearer\s+(\S+)$/i.exec(r.headers.authorization ?? '')?.[1] as string);

  test.each([
    ['the token exchange', 'POST', /\/app\/installations\/\d+\/access_tokens$/, 500, true],
    ['the token exchange', 'POST', /\/app\/installations\/\d+\/access_tokens$/, 500, 'raw'],
    ['the token exchange', 'POST', /\/app\/installations\/\d+\/access_tokens$/, 500, 'header_base64'],
    ['the token exchange', 'POST', /\/app\/installations\/\d+\/access_tokens$/, 401, 'raw'],
    ['the installation lookup', 'GET', /\/repos\/acme\/app-repo\/installation$/, 500, 'raw'],
    ['the installation lookup', 'GET', /\/repos\/acme\/app-repo\/installation$/, 500, 'header_base64'],
  ] as [string, string, RegExp, number, CredentialEcho][])(
    '%s: %s %p answers %i echoing the JWT as %p; the error carries none of it',
    async (_name, method, path, status, echo) => {
      const redactor = new Redactor();
      const source = createAppTokenSource({ redactor });
      const from = sandbox.requests.length;
      sandbox.injectFaults({ method, path, faults: [{ status, echoCredential: echo }] });
      const error = await source
        .installationToken(
          { appId: APP_ID, privateKey: key, installationId: method === 'GET' ? null : installationId },
          target(),
        )
        .catch((e: unknown) => e);
      const jwts = jwtsSentSince(from);
      expect(jwts.length).toBeGreaterThanOrEqual(1);
      const forms = jwts.flatMap((jwt) => leakFormsOf(jwt, base64Forms));
      const echoed = JSON.stringify(sandbox.requests.slice(from).map((r) => r.status));
      expect(echoed).toContain(String(status));
      // The error as the activity would report it: message, fields and cause.
      const text = JSON.stringify(redactor.redact(error));
      expect(scanTexts({ error: text, message: (error as Error).message }, forms)).toEqual({ looked: 2, hits: [] });
      expect((error as Error).message).toContain('[REDACTED-GH-TOKEN]');
      // And the credential the sandbox received was already known to the redactor when it answered.
      for (const jwt of jwts) expect(redactor.redactString(`bearer ${jwt}`)).toBe('bearer [REDACTED-GH-TOKEN]');
    },
  );
});

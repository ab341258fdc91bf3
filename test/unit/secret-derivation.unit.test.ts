// One place derives credentials from a GitHub App's private key: adapters/github/
// app-jwt.ts signs every JWT and registers it (and the key's material) with the redactor before
// anything is sent. A second signing path would bypass that registration, so this test fails when
// the service's source (the sandbox, GitHub's stand-in, aside) signs anywhere else, drives
// @octokit/auth-app anywhere else, or hands auth-app the private key to sign with itself.
import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICE_FOLDERS = ['activities', 'adapters', 'api', 'db', 'domain', 'runtime', 'scripts', 'worker', 'workflows'];
const SIGNER = 'adapters/github/app-jwt.ts';
const APP_AUTH = 'adapters/github/app-tokens.ts';

const sources = SERVICE_FOLDERS.flatMap((folder) =>
  readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => ({ file: path.join(folder, f), text: readFileSync(path.join(ROOT, folder, f), 'utf8') })),
);

/** Files whose text matches `pattern`. */
const filesMatching = (pattern: RegExp) =>
  sources
    .filter((s) => pattern.test(s.text))
    .map((s) => s.file)
    .sort();

describe('secret derivation has one home', () => {
  test('the source tree was read', () => {
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining([SIGNER, APP_AUTH]));
  });

  test('only the signer signs: node:crypto sign/createSign and JWT libraries appear nowhere else', () => {
    expect(filesMatching(/\bimport\s*\{[^}]*\b(sign|createSign)\b[^}]*\}\s*from\s*'(node:)?crypto'/)).toEqual([SIGNER]);
    expect(filesMatching(/from\s*'(universal-github-app-jwt|jsonwebtoken|jose)'/)).toEqual([]);
  });

  test('only the App token source drives @octokit/auth-app, and it never hands it the private key', () => {
    expect(filesMatching(/from\s*'@octokit\/auth-app'/)).toEqual([APP_AUTH]);
    const calls = [
      ...(sources.find((s) => s.file === APP_AUTH)?.text ?? '').matchAll(/createAppAuth\(\{([^}]*)\}/g),
    ].map((m) => m[1] as string);
    expect(calls.length).toBeGreaterThan(0);
    for (const options of calls) {
      expect(options).toMatch(/\bcreateJwt\s*:/);
      expect(options).not.toMatch(/\bprivateKey\s*:/);
    }
  });
});

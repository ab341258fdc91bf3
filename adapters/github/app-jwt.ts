// The one place the service derives credentials from a GitHub App's private key: the
// key's material is registered with the redactor before the key is used, and every JWT signed with
// it is registered before it is returned, so no JWT can reach GitHub — nor come back in an error a
// server echoes — unregistered. @octokit/auth-app signs nothing itself: it is handed `createJwt`.
// test/unit/secret-derivation.unit.test.ts fails if another module signs or drives auth-app.
//   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Redactor } from '../../domain/redact.js';

/** GitHub refuses a JWT that lives longer than 10 minutes; `iat` is set back for clock drift. */
const ISSUED_BEFORE_S = 30;
const LIFETIME_S = 9 * 60;

/** What auth-app's `createJwt` option returns. */
export interface SignedJwt {
  jwt: string;
  expiresAt: string;
}

export interface AppJwtSigner {
  /**
   * auth-app's `createJwt` for one App key: signs a JWT for `appId`, `timeDifference` seconds off
   * this machine's clock (auth-app learns it from GitHub's Date header after a clock-skew refusal).
   */
  createJwt(privateKey: string): (appId: string | number, timeDifference?: number) => Promise<SignedJwt>;
}

export function createAppJwtSigner(deps: { redactor: Redactor; now?: () => number }): AppJwtSigner {
  const now = deps.now ?? Date.now;
  return {
    createJwt(privateKey) {
      deps.redactor.registerPrivateKey(privateKey);
      let key: KeyObject | undefined;
      return async (appId, timeDifference = 0) => {
        key ??= createPrivateKey(privateKey);
        const issuedAt = Math.floor(now() / 1000) + timeDifference - ISSUED_BEFORE_S;
        const expiresAt = issuedAt + ISSUED_BEFORE_S + LIFETIME_S;
        const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({ iat: issuedAt, exp: expiresAt, iss: appId })}`;
        const jwt = `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
        deps.redactor.register(jwt);
        return { jwt, expiresAt: new Date((expiresAt - timeDifference) * 1000).toISOString() };
      };
    },
  };
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { base64Forms, KEY_WINDOW, REDACTED, Redactor, redactTokens } from '../../domain/redact.js';

const classic = (prefix: string) => `${prefix}_${'A1b2C3d4E5'.repeat(4)}`; // 40 chars after the prefix
const fineGrained = `github_pat_11ABCDEFG0${'x'.repeat(20)}_${'Yz9'.repeat(20)}`;

describe('redactTokens: token families (docs/architecture.md "Security rules")', () => {
  test.each([
    ['classic PAT', classic('ghp')],
    ['OAuth token', classic('gho')],
    ['user-to-server token', classic('ghu')],
    ['server-to-server (installation) token', classic('ghs')],
    ['refresh token', classic('ghr')],
    ['fine-grained PAT', fineGrained],
    ['minimum-length fine-grained PAT', `github_pat_${'a'.repeat(20)}`],
    ['minimum-length classic token', `ghp_${'a'.repeat(36)}`],
  ])('%s is redacted', (_name, token) => {
    expect(redactTokens(`token=${token} end`)).toBe(`token=${REDACTED} end`);
  });

  test.each([
    [
      'inside an https URL',
      (t: string) => `https://x-access-token:${t}@github.com/o/r.git`,
      `https://x-access-token:${REDACTED}@github.com/o/r.git`,
    ],
    ['as a bearer header', (t: string) => `Authorization: Bearer ${t}`, `Authorization: Bearer ${REDACTED}`],
    ['in JSON', (t: string) => JSON.stringify({ token: t }), `{"token":"${REDACTED}"}`],
    ['twice in one line', (t: string) => `${t} and ${t}`, `${REDACTED} and ${REDACTED}`],
    [
      'at a line start in a stack trace',
      (t: string) => `Error: boom\n${t}\n    at f (x.js:1:1)`,
      `Error: boom\n${REDACTED}\n    at f (x.js:1:1)`,
    ],
  ])('a token %s', (_name, wrap, expected) => {
    expect(redactTokens(wrap(classic('ghs')))).toBe(expected);
  });

  test.each([
    ['a git SHA-1', 'commit 3f786850e387550fdab836ed7e6dc881de23001b'],
    ['a SHA-256 digest', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a UUID', 'proposal 0b9e8c47-2a1f-4d7e-9c3b-5e6f7a8b9c0d'],
    ['a short gh prefix', 'ghp_short and gh_ and ghx'],
    ['a prefix without underscore', `ghp${'a'.repeat(40)}`],
    ['an upper-case prefix', `GHP_${'a'.repeat(40)}`],
    ['a branch name', 'relyloop/study-0b9e8c47-2a1f-4d7e-9c3b-5e6f7a8b9c0d'],
    ['a too-short fine-grained prefix', `github_pat_${'a'.repeat(19)}`],
  ])('no false positive on %s', (_name, text) => {
    expect(redactTokens(text)).toBe(text);
  });
});

describe('Redactor: literal secrets and structures', () => {
  test('a registered literal is redacted wherever it appears, also JSON- and URL-encoded', () => {
    const r = new Redactor();
    r.register('  s3cr3t/value"with\\odd+chars \n');
    const secret = 's3cr3t/value"with\\odd+chars';
    expect(r.redactString(`a ${secret} b`)).toBe(`a ${REDACTED} b`);
    expect(r.redactString(JSON.stringify({ v: secret }))).toBe(`{"v":"${REDACTED}"}`);
    expect(r.redactString(`https://h/?t=${encodeURIComponent(secret)}`)).toBe(`https://h/?t=${REDACTED}`);
  });

  test('short literals are refused so ordinary text survives', () => {
    const r = new Redactor();
    r.register('abc');
    r.register('');
    expect(r.redactString('abc abc')).toBe('abc abc');
  });

  test('nested objects, arrays, keys and errors with causes are redacted without mutating the input', () => {
    const r = new Redactor();
    r.register('literal-api-token-123');
    const token = classic('ghp');
    const cause = new Error(`fetch failed for ${token}`);
    const error = Object.assign(new Error('push failed: literal-api-token-123', { cause }), {
      code: 'E',
      argv: ['git', token],
    });
    const input = {
      a: [1, { b: token, [token]: 'key' }],
      nested: { deep: { err: error } },
      n: 5,
      ok: true,
      nil: null,
      when: new Date(0),
    };
    const out = r.redact(input) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain(token);
    expect(text).not.toContain('literal-api-token-123');
    expect(out).toMatchObject({ a: [1, { b: REDACTED, [REDACTED]: 'key' }], n: 5, ok: true, nil: null });
    const err = (out.nested as { deep: { err: Record<string, unknown> } }).deep.err;
    expect(err).toMatchObject({
      type: 'Error',
      message: `push failed: ${REDACTED}`,
      code: 'E',
      argv: ['git', REDACTED],
      cause: { message: `fetch failed for ${REDACTED}` },
    });
    expect(String(err.stack)).toContain(`push failed: ${REDACTED}`);
    expect(input.a[1]).toEqual({ b: token, [token]: 'key' });
    expect((out as { when: Date }).when).toEqual(new Date(0));
  });

  test('cycles do not loop forever', () => {
    const a: Record<string, unknown> = { t: classic('gho') };
    a.self = a;
    const out = new Redactor().redact(a) as Record<string, unknown>;
    expect(out.t).toBe(REDACTED);
    expect(out.self).toBe(out);
  });
});

describe('Redactor: base64 forms of a registered secret (a server echoing the credential)', () => {
  // Not a GitHub token pattern: only the registered literal and its encodings can catch it.
  const secret = 'sandbox-Token_0123456789abcdefghijklmnopqrstuvwxyz';
  const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
  const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');
  const redactor = () => {
    const r = new Redactor();
    r.register(secret);
    return r;
  };

  test.each([
    ['the Basic header value git sends', b64(`x-access-token:${secret}`)],
    ['the secret alone', b64(secret)],
    ['after a 1-byte prefix', b64(`:${secret}`)],
    ['after a 2-byte prefix', b64(`u:${secret}`)],
    ['inside a longer blob, offset 0 mod 3', b64(`{"auth":"${secret}","n":1}`)],
    ['inside a longer blob, offset 1 mod 3', b64(`{"auth1":"${secret}","n":1}`)],
    ['inside a longer blob, offset 2 mod 3', b64(`{"auth12":"${secret}","n":1}`)],
    ['base64url', b64url(`x-access-token:${secret}`)],
    ['base64url, offset 2 mod 3', b64url(`ab${secret}`)],
    ['URL-encoded base64', encodeURIComponent(b64(`>>${secret}??`))],
  ])('%s is redacted', (_name, encoded) => {
    const out = redactor().redactString(`server said: Basic ${encoded} (rejected)`);
    expect(out).toContain(REDACTED);
    // Whatever is left of the encoding decodes to no more than a couple of the secret's edge bytes.
    for (const piece of out.split(REDACTED))
      expect(Buffer.from(piece.replace(/^.*Basic /, ''), 'base64').toString('latin1')).not.toContain(
        secret.slice(2, -2),
      );
  });

  test('each base64 form is a substring of the encoding at its alignment and nothing shorter than the minimum is registered', () => {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = b64(Buffer.concat([Buffer.alloc(offset, 0x41), Buffer.from(secret)]));
      expect(base64Forms(secret).some((form) => encoded.includes(form))).toBe(true);
    }
    expect(base64Forms('12345678').every((form) => form.length >= 8)).toBe(true);
  });

  test('ordinary base64 that does not encode the secret is left alone', () => {
    const other = b64(`x-access-token:${'z'.repeat(secret.length)}`);
    expect(redactor().redactString(other)).toBe(other);
  });
});

describe('private keys: any quoted fragment of the key', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
  const lines = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const body = lines.join('');
  const keyRedactor = () => {
    const r = new Redactor();
    r.registerPrivateKey(pem);
    return r;
  };
  /** The longest run of the key's body left in `text` (URL-encoded `+` and `/` read as such). */
  const longestKeyRun = (text: string) => {
    let longest = 0;
    for (const run of text
      .replace(/%2B/g, '+')
      .replace(/%2F/g, '/')
      .match(/[A-Za-z0-9+/]+/g) ?? []) {
      for (let len = run.length; len > longest; len--) {
        if ([...Array(run.length - len + 1).keys()].some((i) => body.includes(run.slice(i, i + len)))) {
          longest = len;
          break;
        }
      }
    }
    return longest;
  };
  const twoLines = `${lines[3]}\n${lines[4]}`;
  const fragment = body.slice(101, 101 + KEY_WINDOW + 7); // starts mid-line, not on a 4-character boundary

  test.each([
    ['two body lines quoted as text', `401 Bad credentials: ${twoLines}`],
    ['two body lines inside a JSON message', JSON.stringify({ message: `key rejected: ${twoLines}` })],
    ['a fragment starting mid-line', `server says ${fragment}!`],
    ['a fragment spanning a line break as sent without it', `x ${body.slice(60, 60 + 2 * KEY_WINDOW)} y`],
    ['a fragment URL-encoded', `https://evil.example/?k=${encodeURIComponent(body.slice(300, 400))}`],
    ['the whole key', `key: ${pem}`],
  ])('%s is redacted: no run of the key as long as the window survives', (_name, text) => {
    expect(longestKeyRun(text)).toBeGreaterThanOrEqual(KEY_WINDOW); // the check can fail
    const out = keyRedactor().redactString(text);
    expect(out).toContain(REDACTED);
    expect(longestKeyRun(out)).toBeLessThan(KEY_WINDOW);
    expect(longestKeyRun(new Redactor().redactString(text))).toBeGreaterThanOrEqual(KEY_WINDOW); // unregistered: it leaks
  });

  test.each([0, 1, 2])('two body lines base64-encoded at byte offset %d are redacted', (offset) => {
    const encoded = Buffer.from(`${'p'.repeat(offset)}quoted: ${twoLines}\n`).toString('base64');
    const out = keyRedactor().redactString(`echo ${encoded}`);
    expect(out).toContain(REDACTED);
    // What is left decodes to no line of the key.
    for (const piece of out.split(REDACTED))
      expect(Buffer.from(piece.replace(/^echo /, ''), 'base64').toString('latin1')).not.toContain(
        (lines[3] as string).slice(8, 8 + KEY_WINDOW),
      );
  });

  test.each([
    ['a git SHA-1', 'commit 3f786850e387550fdab836ed7e6dc881de23001b'],
    ['a SHA-256 digest', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a branch name', 'relyloop/study-0b9e8c47-2a1f-4d7e-9c3b-5e6f7a8b9c0d'],
    [
      'another key',
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs1', format: 'pem' })
        .toString(),
    ],
    ['a fragment shorter than the window', body.slice(200, 200 + KEY_WINDOW - 1)],
  ])('no false positive on %s', (_name, text) => {
    expect(keyRedactor().redactString(text)).toBe(text);
  });
});

describe('redaction counts (the redacted-secret metric)', () => {
  test('every replacement is counted by kind; clean text counts nothing', () => {
    const r = new Redactor();
    r.register('s3cret-value-of-a-webhook');
    expect(r.redactString('nothing to hide here')).toBe('nothing to hide here');
    expect(r.counts).toEqual({ token_pattern: 0, secret: 0 });
    r.redactString(
      `${classic('ghp')} and ${classic('ghs')}, s3cret-value-of-a-webhook twice: s3cret-value-of-a-webhook`,
    );
    expect(r.counts).toEqual({ token_pattern: 2, secret: 2 });
    // Text already redacted holds nothing more to count.
    r.redactString(`${REDACTED} ${REDACTED}`);
    expect(r.counts).toEqual({ token_pattern: 2, secret: 2 });
    // Another redactor (another process's, a renderer's) counts on its own.
    expect(new Redactor().counts).toEqual({ token_pattern: 0, secret: 0 });
  });
});

import { describe, expect, test } from '@jest/globals';
import { REDACTED, Redactor, redactTokens } from '../../domain/redact.js';

const classic = (prefix: string) => `${prefix}_${'A1b2C3d4E5'.repeat(4)}`; // 40 chars after the prefix
const fineGrained = `github_pat_11ABCDEFG0${'x'.repeat(20)}_${'Yz9'.repeat(20)}`;

describe('redactTokens: token families (SPEC §6)', () => {
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
    ['inside an https URL', (t: string) => `https://x-access-token:${t}@github.com/o/r.git`, `https://x-access-token:${REDACTED}@github.com/o/r.git`],
    ['as a bearer header', (t: string) => `Authorization: Bearer ${t}`, `Authorization: Bearer ${REDACTED}`],
    ['in JSON', (t: string) => JSON.stringify({ token: t }), `{"token":"${REDACTED}"}`],
    ['twice in one line', (t: string) => `${t} and ${t}`, `${REDACTED} and ${REDACTED}`],
    ['at a line start in a stack trace', (t: string) => `Error: boom\n${t}\n    at f (x.js:1:1)`, `Error: boom\n${REDACTED}\n    at f (x.js:1:1)`],
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
    const error = Object.assign(new Error('push failed: literal-api-token-123', { cause }), { code: 'E', argv: ['git', token] });
    const input = { a: [1, { b: token, [token]: 'key' }], nested: { deep: { err: error } }, n: 5, ok: true, nil: null, when: new Date(0) };
    const out = r.redact(input) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain(token);
    expect(text).not.toContain('literal-api-token-123');
    expect(out).toMatchObject({ a: [1, { b: REDACTED, [REDACTED]: 'key' }], n: 5, ok: true, nil: null });
    const err = (out.nested as { deep: { err: Record<string, unknown> } }).deep.err;
    expect(err).toMatchObject({ type: 'Error', message: `push failed: ${REDACTED}`, code: 'E', argv: ['git', REDACTED], cause: { message: `fetch failed for ${REDACTED}` } });
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

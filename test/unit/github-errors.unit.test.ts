// Classification of GitHub failures (docs/architecture.md "Error codes", docs/architecture.md
// "Forge behaviour"): terminal codes, retryable, rate-limit waits.
import { describe, test, expect } from '@jest/globals';
import { Redactor } from '../../domain/redact.js';
import { SECONDARY_RATE_LIMIT_FALLBACK_MS, classifyGitHubFailure } from '../../adapters/github/errors.js';

const NOW = 1_700_000_000_000;
const requestError = (status: number, message: string, headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { status, response: { headers, data: { message } } });

describe('classifyGitHubFailure', () => {
  test.each([
    ['401', requestError(401, 'Bad credentials'), { code: 'GITHUB_AUTH_FAILED', retryable: false }],
    [
      '403 without rate-limit markers',
      requestError(403, 'Resource not accessible by integration'),
      { code: 'GITHUB_AUTH_FAILED', retryable: false },
    ],
    [
      '404 (GitHub hides a private repo the token cannot see)',
      requestError(404, 'Not Found'),
      { code: 'GITHUB_AUTH_FAILED', retryable: false, message: expect.stringContaining('the token cannot see it') },
    ],
    [
      '403 names the missing permission',
      requestError(403, 'Resource not accessible by integration'),
      { message: expect.stringContaining('lacks a permission') },
    ],
    ['422', requestError(422, 'Validation Failed'), { code: 'GITHUB_API_FAILED', retryable: false }],
    ['500', requestError(500, 'fetch failed'), { code: 'GITHUB_API_FAILED', retryable: true, retryAfterMs: undefined }],
    ['503', requestError(503, 'Service Unavailable'), { code: 'GITHUB_API_FAILED', retryable: true }],
    [
      'a plain network error',
      new TypeError('fetch failed'),
      { code: 'GITHUB_API_FAILED', retryable: true, upstreamStatus: undefined },
    ],
    [
      '403 secondary, no Retry-After',
      requestError(403, 'You have exceeded a secondary rate limit'),
      { retryable: true, retryAfterMs: SECONDARY_RATE_LIMIT_FALLBACK_MS },
    ],
    [
      '403 secondary, Retry-After 30',
      requestError(403, 'You have exceeded a secondary rate limit', { 'retry-after': '30' }),
      { retryable: true, retryAfterMs: 30_000 },
    ],
    [
      '429 bare',
      requestError(429, 'Too Many Requests'),
      { retryable: true, retryAfterMs: SECONDARY_RATE_LIMIT_FALLBACK_MS },
    ],
    [
      '429, Retry-After 0',
      requestError(429, 'Too Many Requests', { 'retry-after': '0' }),
      { retryable: true, retryAfterMs: 0 },
    ],
    [
      '403 primary, reset in 100 s',
      requestError(403, 'API rate limit exceeded', {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(NOW / 1000 + 100),
      }),
      { code: 'GITHUB_API_FAILED', retryable: true, retryAfterMs: 101_000 },
    ],
    [
      '403 primary, reset passed',
      requestError(403, 'API rate limit exceeded', {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(NOW / 1000 - 5),
      }),
      { retryable: true, retryAfterMs: 1_000 },
    ],
  ])('%s', (_label, error, expected) => {
    expect(classifyGitHubFailure(error, 'op', new Redactor(), NOW)).toMatchObject(expected);
  });

  test('messages are redacted and name the operation', () => {
    const redactor = new Redactor();
    redactor.register('s3cret-literal-token');
    const result = classifyGitHubFailure(
      requestError(422, 'bad s3cret-literal-token and ghp_' + 'a'.repeat(36)),
      'create pull request (a/b)',
      redactor,
      NOW,
    );
    expect(result.message).toBe(
      'GitHub create pull request (a/b) failed: 422 bad [REDACTED-GH-TOKEN] and [REDACTED-GH-TOKEN]',
    );
  });
});

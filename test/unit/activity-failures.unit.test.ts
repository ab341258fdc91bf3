// How activity errors become the ApplicationFailures Temporal persists (docs/architecture.md "The
// open-PR workflow", docs/architecture.md "Error codes", docs/architecture.md "Forge behaviour").
import { describe, expect, test } from '@jest/globals';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { toApplicationFailure, withFailureConversion } from '../../activities/failures.js';
import { AppError, terminalCodeOf, WORKFLOW_ERROR_CODES } from '../../domain/errors.js';
import { Redactor } from '../../domain/redact.js';
import { NON_RETRYABLE_TYPES } from '../../workflows/open-pr.js';
import { createWorkerMetrics } from '../../runtime/worker-metrics.js';

const token = `ghp_${'Q7w'.repeat(13)}`;
const redactor = new Redactor();

describe('toApplicationFailure', () => {
  test.each([
    [
      'terminal AppError',
      new AppError({ code: 'BRANCH_EXISTS', message: 'branch x exists' }),
      { type: 'BRANCH_EXISTS', nonRetryable: true },
    ],
    [
      'retryable AppError (502 during clone)',
      new AppError({ code: 'CLONE_FAILED', retryable: true, message: 'HTTP 502' }),
      { type: 'CLONE_FAILED_TRANSIENT', nonRetryable: false },
    ],
    [
      'terminal GitHub failure',
      new AppError({
        code: 'GITHUB_AUTH_FAILED',
        message: 'Bad credentials',
        retryable: false,
        operation: 'pulls.create',
      }),
      { type: 'GITHUB_AUTH_FAILED', nonRetryable: true },
    ],
    [
      'GitHub 5xx',
      new AppError({
        code: 'GITHUB_API_FAILED',
        message: 'Server Error',
        retryable: true,
        upstreamStatus: 502,
        operation: 'pulls.create',
      }),
      { type: 'GITHUB_API_FAILED_TRANSIENT', nonRetryable: false, nextRetryDelay: undefined },
    ],
    [
      'GitHub rate limit with a long wait',
      new AppError({
        code: 'GITHUB_API_FAILED',
        message: 'secondary rate limit',
        retryable: true,
        retryAfterMs: 60_000,
        upstreamStatus: 403,
        operation: 'pulls.create',
      }),
      { type: 'GITHUB_API_FAILED_TRANSIENT', nonRetryable: false, nextRetryDelay: 60_000 },
    ],
    ['unexpected error', new TypeError('boom'), { type: 'TypeError', nonRetryable: false }],
  ])('%s', (_name, error, expected) => {
    const failure = toApplicationFailure(error, redactor);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject(expected);
  });

  test('the retry policy never lists a transient type, and lists every terminal code', () => {
    expect(NON_RETRYABLE_TYPES).toEqual(expect.arrayContaining([...WORKFLOW_ERROR_CODES]));
    expect(NON_RETRYABLE_TYPES.some((t) => t.endsWith('_TRANSIENT'))).toBe(false);
  });

  test.each([
    ['CLONE_FAILED_TRANSIENT', 'CLONE_FAILED'],
    ['GITHUB_API_FAILED_TRANSIENT', 'GITHUB_API_FAILED'],
    ['PARAM_NOT_IN_TEMPLATE', 'PARAM_NOT_IN_TEMPLATE'],
    ['TypeError', undefined],
    [undefined, undefined],
  ])('terminalCodeOf(%s) is %s', (type, code) => {
    expect(terminalCodeOf(type)).toBe(code);
  });

  test('messages are redacted and no cause or stack of the original is attached', async () => {
    const original = new Error(`push to https://x:${token}@github.com failed`, { cause: new Error(token) });
    const failure = toApplicationFailure(original, redactor);
    expect(failure.message).toBe('push to https://x:[REDACTED-GH-TOKEN]@github.com failed');
    expect(failure.cause).toBeUndefined();
    expect(JSON.stringify({ m: failure.message, s: failure.stack })).not.toContain(token);
    const wrapped = withFailureConversion(
      {
        async act() {
          throw original;
        },
      },
      redactor,
      createWorkerMetrics(),
    );
    await expect(wrapped.act()).rejects.toMatchObject({
      message: 'push to https://x:[REDACTED-GH-TOKEN]@github.com failed',
    });
  });

  test('a cancelled attempt reports its cancellation, whatever its aborted I/O threw', async () => {
    const env = new MockActivityEnvironment();
    const wrapped = withFailureConversion(
      {
        // Like a GitHub call whose fetch the cancellation aborted: a plain network-looking error.
        async act() {
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('fetch failed: the request was cancelled');
        },
      },
      redactor,
      createWorkerMetrics(),
    );
    const running = env.run(wrapped.act);
    env.cancel('CANCELLED');
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    // Without a cancellation the same error is an ordinary retryable failure.
    await expect(new MockActivityEnvironment().run(wrapped.act)).rejects.toMatchObject({
      type: 'Error',
      nonRetryable: false,
    });
  });
});

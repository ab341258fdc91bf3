// The one classification of network failures (docs/architecture.md "Forge behaviour"), as a table:
// what each failure is, and what the git and GitHub adapters make of it. Only authentication,
// not-found and refused requests are terminal; every network-level failure is retried.
import { describe, expect, test } from '@jest/globals';
import { Errors } from 'isomorphic-git';
import { classifyGitHubFailure } from '../../adapters/github/errors.js';
import { GitTransportError } from '../../adapters/git/git-http-client.js';
import { toGitTransferError } from '../../adapters/git/git-errors.js';
import { Redactor } from '../../domain/redact.js';
import { classifyTransportFailure, type TransportFailureKind } from '../../domain/transport-failures.js';

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code });
const restError = (status: number, message = 'x') =>
  Object.assign(new Error(message), { status, response: { headers: {} } });

describe('classifyTransportFailure', () => {
  test.each<[string, Parameters<typeof classifyTransportFailure>[0], TransportFailureKind]>([
    ['401', { status: 401 }, 'auth'],
    ['403', { status: 403 }, 'auth'],
    ['404', { status: 404 }, 'not_found'],
    ['410', { status: 410 }, 'not_found'],
    ['400', { status: 400 }, 'invalid'],
    ['422', { status: 422 }, 'invalid'],
    ['408', { status: 408 }, 'transient'],
    ['429', { status: 429 }, 'transient'],
    ['500', { status: 500 }, 'transient'],
    ['502', { status: 502 }, 'transient'],
    ['503', { status: 503 }, 'transient'],
    ['ECONNRESET (reset, "socket hang up")', { code: 'ECONNRESET' }, 'transient'],
    ['ETIMEDOUT', { code: 'ETIMEDOUT' }, 'transient'],
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }, 'transient'],
    ['EAI_AGAIN (DNS)', { code: 'EAI_AGAIN' }, 'transient'],
    ['ENOTFOUND (DNS)', { code: 'ENOTFOUND' }, 'transient'],
    ['EPIPE', { code: 'EPIPE' }, 'transient'],
    ['UND_ERR_SOCKET', { code: 'UND_ERR_SOCKET' }, 'transient'],
    ['an error without a code ("Request timed out")', {}, 'transient'],
    ['isomorphic-git SmartHttpError (garbled answer)', { code: 'SmartHttpError' }, 'transient'],
    ['isomorphic-git NotFoundError (no such ref)', { code: 'NotFoundError' }, 'not_found'],
    ['isomorphic-git UrlParseError', { code: 'UrlParseError' }, 'invalid'],
  ])('%s → %s', (_name, facts, kind) => {
    expect(classifyTransportFailure(facts)).toBe(kind);
  });
});

describe('the git adapter', () => {
  test.each<[string, unknown, string]>([
    ['HTTP 401', new Errors.HttpError(401, 'Unauthorized', ''), 'token is invalid, expired or revoked'],
    ['HTTP 403', new Errors.HttpError(403, 'Forbidden', ''), 'lacks access to the repository contents'],
    [
      'HTTP 404 (GitHub hides a private repo the token cannot see)',
      new Errors.HttpError(404, 'Not Found', ''),
      'the token cannot see it',
    ],
  ])('%s: GITHUB_AUTH_FAILED, terminal, naming the likely cause', (_name, error, hint) => {
    expect(toGitTransferError('clone', error, new Redactor())).toMatchObject({
      code: 'GITHUB_AUTH_FAILED',
      retryable: false,
      message: expect.stringContaining(hint),
    });
  });

  test.each<[string, unknown, boolean]>([
    ['HTTP 502', new Errors.HttpError(502, 'Bad Gateway', ''), true],
    ['HTTP 503', new Errors.HttpError(503, 'Service Unavailable', ''), true],
    ['HTTP 429', new Errors.HttpError(429, 'Too Many Requests', ''), true],
    ['our idle timeout', new GitTransportError('git server sent nothing for 30 s', 'ETIMEDOUT'), true],
    ['a cancelled transfer', new GitTransportError('git transfer cancelled', 'ABORT_ERR'), true],
    ['socket hang up', nodeError('ECONNRESET', 'socket hang up'), true],
    ['simple-get "Request timed out" (no code)', new Error('Request timed out'), true],
    ['DNS failure', nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND github.example'), true],
    ['missing ref', new Errors.NotFoundError('refs/heads/main'), false],
  ])('%s: CLONE_FAILED, retryable %s', (_name, error, retryable) => {
    expect(toGitTransferError('clone', error, new Redactor())).toMatchObject({ code: 'CLONE_FAILED', retryable });
  });
});

describe('the GitHub adapter', () => {
  test.each<[string, unknown, { code?: string; retryable: boolean }]>([
    ['401', restError(401, 'Bad credentials'), { code: 'GITHUB_AUTH_FAILED', retryable: false }],
    ['404', restError(404), { code: 'GITHUB_AUTH_FAILED', retryable: false }],
    ['422', restError(422), { code: 'GITHUB_API_FAILED', retryable: false }],
    ['408', restError(408), { code: 'GITHUB_API_FAILED', retryable: true }],
    ['502', restError(502), { code: 'GITHUB_API_FAILED', retryable: true }],
    [
      'Octokit network error (status 500)',
      restError(500, 'fetch failed'),
      { code: 'GITHUB_API_FAILED', retryable: true },
    ],
    ['a bare network error', nodeError('ECONNRESET', 'socket hang up'), { code: 'GITHUB_API_FAILED', retryable: true }],
    [
      'an abort (per-attempt timeout)',
      Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }),
      { code: 'GITHUB_API_FAILED', retryable: true },
    ],
  ])('%s', (_name, error, expected) => {
    expect(classifyGitHubFailure(error, 'op', new Redactor(), 0)).toMatchObject(expected);
  });
});

// Where the sandbox is as strict as GitHub: access per token, permissions, declined
// pushes, a lagging API after a push, length limits and rate limits. Each behaviour cites the
// GitHub doc it follows in the sandbox module that implements it.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { pushBranch } from '../../sandbox/branches.js';
import { sandboxRest } from '../support/sandbox-rest.js';

const run = promisify(execFile);
const OWNER_TOKEN = 'ghs_fidelityOwner0123456789abcdefghijklmn';
const OUTSIDER = 'ghs_fidelityOutsider0123456789abcdefghijk';
const READER = 'ghs_fidelityReader0123456789abcdefghijklm';
const NO_ISSUES = 'github_pat_fidelityNoIssues0123456789abcd';

let sandbox: GitHubSandbox;
let work: string;

const call = (method: string, urlPath: string, token: string, body?: unknown) =>
  sandboxRest(sandbox, method, urlPath, body, token);

/** The git CLI with `token` as a one-off Basic header; resolves with exit code and stderr. */
async function gitAs(token: string, args: string[], cwd = work): Promise<{ code: number; stderr: string }> {
  const header = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
  try {
    const { stderr } = await run(
      'git',
      ['-c', header, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args],
      { cwd, env },
    );
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'sandbox-fidelity-'));
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({
    owner: 'acme',
    repo: 'private-cfg',
    token: OWNER_TOKEN,
    files: { 'params.json': '{"a":1}\n' },
  });
  sandbox.grantAccess({ owner: 'acme', repo: 'private-cfg', token: OUTSIDER, permissions: null });
  sandbox.grantAccess({
    owner: 'acme',
    repo: 'private-cfg',
    token: READER,
    permissions: { contents: 'read', pull_requests: 'read', issues: 'read' },
  });
  sandbox.grantAccess({
    owner: 'acme',
    repo: 'private-cfg',
    token: NO_ISSUES,
    permissions: { contents: 'write', pull_requests: 'read' },
  });
});
afterEach(() => sandbox.clearFaults());
afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

describe('access per token', () => {
  test('a token that cannot see a private repo gets 404 from REST and git, never 403', async () => {
    expect(await call('GET', '/repos/acme/private-cfg', OUTSIDER)).toMatchObject({
      status: 404,
      json: { message: 'Not Found' },
    });
    expect(
      await call('POST', '/repos/acme/private-cfg/pulls', OUTSIDER, { title: 't', head: 'x', base: 'main' }),
    ).toMatchObject({ status: 404 });
    const clone = await gitAs(OUTSIDER, ['clone', '--quiet', sandbox.gitUrl('acme', 'private-cfg'), 'outsider']);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toMatch(/Repository not found|not found/i);
    expect(
      sandbox.requests.filter((r) => r.kind === 'git' && r.headers.authorization !== undefined).at(-1)?.status,
    ).toBe(404);
  });

  test('an unknown token is 401 Bad credentials', async () => {
    expect(await call('GET', '/repos/acme/private-cfg', 'ghs_neverIssued0123456789abcdefghijklmnop')).toMatchObject({
      status: 401,
      json: { message: 'Bad credentials' },
    });
  });

  test('a read-only token may clone but not push (403 "Permission … denied") nor open a PR (403 "Resource not accessible")', async () => {
    expect((await gitAs(READER, ['clone', '--quiet', sandbox.gitUrl('acme', 'private-cfg'), 'reader'])).code).toBe(0);
    const dir = path.join(work, 'reader');
    await gitAs(READER, ['commit', '--quiet', '--allow-empty', '-m', 'x'], dir);
    const push = await gitAs(READER, ['push', 'origin', 'HEAD:refs/heads/reader-branch'], dir);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403/);
    expect(sandbox.requests.filter((r) => r.kind === 'git').at(-1)).toMatchObject({
      status: 403,
      query: { service: 'git-receive-pack' },
    });
    const repo = await call('GET', '/repos/acme/private-cfg', READER);
    expect(repo).toMatchObject({ status: 200, json: { permissions: { push: false } } });
    expect(
      await call('POST', '/repos/acme/private-cfg/pulls', READER, { title: 't', head: 'x', base: 'main' }),
    ).toMatchObject({ status: 403, json: { message: 'Resource not accessible by integration' } });
  });

  test('a fine-grained PAT without issues or pull_requests write cannot comment', async () => {
    const branch = 'fidelity/comment';
    await pushBranch(sandbox, { owner: 'acme', repo: 'private-cfg', token: OWNER_TOKEN, branch });
    const pr = await call('POST', '/repos/acme/private-cfg/pulls', OWNER_TOKEN, {
      title: 't',
      head: branch,
      base: 'main',
    });
    expect(pr.status).toBe(201);
    expect(
      await call('POST', `/repos/acme/private-cfg/issues/${String(pr.json.number)}/comments`, NO_ISSUES, {
        body: 'hi',
      }),
    ).toMatchObject({ status: 403, json: { message: 'Resource not accessible by personal access token' } });
    expect(
      await call('GET', `/repos/acme/private-cfg/issues/${String(pr.json.number)}/comments`, NO_ISSUES),
    ).toMatchObject({ status: 200 });
  });
});

describe('pushes declined by rulesets and branch protection', () => {
  test.each([
    [
      'ruleset',
      'ruleset' as const,
      /remote: error: GH013: Repository rule violations found for refs\/heads\/relyloop\/study-1\.[\s\S]*Cannot create ref due to creations being restricted/,
    ],
    [
      'protected branch',
      'protected_branch' as const,
      /remote: error: GH006: Protected branch update failed for refs\/heads\/relyloop\/study-1\./,
    ],
  ])("a %s declines the push with GitHub's explanation; the branch is not created", async (_label, kind, output) => {
    await sandbox.setPushRules('acme', 'private-cfg', [{ kind, pattern: 'relyloop/*' }]);
    const dir = path.join(work, `rules-${kind}`);
    await gitAs(OWNER_TOKEN, ['clone', '--quiet', sandbox.gitUrl('acme', 'private-cfg'), dir]);
    await gitAs(OWNER_TOKEN, ['commit', '--quiet', '--allow-empty', '-m', 'x'], dir);
    const push = await gitAs(OWNER_TOKEN, ['push', 'origin', 'HEAD:refs/heads/relyloop/study-1'], dir);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(output);
    expect(push.stderr).toMatch(/\[remote rejected\] HEAD -> relyloop\/study-1 \(pre-receive hook declined\)/);
    // Other branches still go through.
    expect((await gitAs(OWNER_TOKEN, ['push', '--quiet', 'origin', `HEAD:refs/heads/other-${kind}`], dir)).code).toBe(
      0,
    );
    await sandbox.setPushRules('acme', 'private-cfg', []);
    expect(
      (await gitAs(OWNER_TOKEN, ['push', '--quiet', 'origin', 'HEAD:refs/heads/relyloop/study-1'], dir)).code,
    ).toBe(0);
    await gitAs(OWNER_TOKEN, ['push', '--quiet', 'origin', ':refs/heads/relyloop/study-1'], dir);
  });
});

describe('eventual consistency after a push', () => {
  test('for the lag after a push the API answers 422 head invalid, then sees the branch', async () => {
    sandbox.setConsistencyLag('acme', 'private-cfg', 1_500);
    const branch = 'fidelity/lag';
    await pushBranch(sandbox, { owner: 'acme', repo: 'private-cfg', token: OWNER_TOKEN, branch });
    const early = await call('POST', '/repos/acme/private-cfg/pulls', OWNER_TOKEN, {
      title: 't',
      head: branch,
      base: 'main',
    });
    expect(early).toMatchObject({
      status: 422,
      json: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] },
    });
    sandbox.clock.advance(1_600);
    expect(
      (await call('POST', '/repos/acme/private-cfg/pulls', OWNER_TOKEN, { title: 't', head: branch, base: 'main' }))
        .status,
    ).toBe(201);
    sandbox.setConsistencyLag('acme', 'private-cfg', 0);
  });
});

describe('length limits', () => {
  test('a title over 256 characters, a body or comment over 65,536 (a bare LF counting two) is 422', async () => {
    const branch = 'fidelity/lengths';
    await pushBranch(sandbox, { owner: 'acme', repo: 'private-cfg', token: OWNER_TOKEN, branch });
    const pulls = '/repos/acme/private-cfg/pulls';
    expect(
      await call('POST', pulls, OWNER_TOKEN, { title: 'x'.repeat(257), head: branch, base: 'main' }),
    ).toMatchObject({
      status: 422,
      json: { errors: [{ field: 'title', message: 'title is too long (maximum is 256 characters)' }] },
    });
    expect(
      await call('POST', pulls, OWNER_TOKEN, {
        title: 't',
        body: `${'x'.repeat(65_535)}\n`,
        head: branch,
        base: 'main',
      }),
    ).toMatchObject({
      status: 422,
      json: { errors: [{ field: 'body', message: 'body is too long (maximum is 65536 characters)' }] },
    });
    const pr = await call('POST', pulls, OWNER_TOKEN, {
      title: 'ü'.repeat(256),
      body: 'x'.repeat(65_536),
      head: branch,
      base: 'main',
    });
    expect(pr.status).toBe(201);
    expect(
      await call('POST', `/repos/acme/private-cfg/issues/${String(pr.json.number)}/comments`, OWNER_TOKEN, {
        body: 'y'.repeat(65_537),
      }),
    ).toMatchObject({ status: 422, json: { errors: [{ message: 'Body is too long (maximum is 65536 characters)' }] } });
  });
});

describe('rate limits', () => {
  let limited: GitHubSandbox;
  const TOKEN = 'ghs_rateLimited0123456789abcdefghijklmnopq';
  const OTHER = 'ghs_rateOther0123456789abcdefghijklmnopqrs';
  beforeAll(async () => {
    limited = await startGitHubSandbox({ rateLimits: { primaryPerHour: 5, contentPerMinute: 2 } });
    await limited.createRepo({ owner: 'acme', repo: 'rl', token: TOKEN, files: { 'a.txt': 'a\n' } });
    limited.grantAccess({
      owner: 'acme',
      repo: 'rl',
      token: OTHER,
      permissions: { contents: 'write', pull_requests: 'write', issues: 'write' },
    });
    for (const n of [1, 2, 3]) await pushBranch(limited, { owner: 'acme', repo: 'rl', token: TOKEN, branch: `b${n}` });
  });
  afterAll(async () => limited.close());
  const rl = async (method: string, p: string, token: string, body?: unknown) => {
    const res = await fetch(`${limited.apiBaseUrl}${p}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      json: (await res.json()) as Record<string, unknown>,
      headers: Object.fromEntries(res.headers),
    };
  };

  test('every answer carries x-ratelimit-*; content creation per minute, then the primary budget, refuse with 403 as GitHub does', async () => {
    const first = await rl('GET', '/repos/acme/rl', TOKEN);
    expect(first.headers).toMatchObject({
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
    });
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect((await rl('POST', '/repos/acme/rl/pulls', TOKEN, { title: 't', head: 'b1', base: 'main' })).status).toBe(
      201,
    );
    expect((await rl('POST', '/repos/acme/rl/pulls', TOKEN, { title: 't', head: 'b2', base: 'main' })).status).toBe(
      201,
    );
    const third = await rl('POST', '/repos/acme/rl/pulls', TOKEN, { title: 't', head: 'b3', base: 'main' });
    expect(third).toMatchObject({ status: 403, json: { message: expect.stringContaining('secondary rate limit') } });
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    expect((await rl('GET', '/repos/acme/rl', TOKEN)).headers['x-ratelimit-remaining']).toBe('0');
    const spent = await rl('GET', '/repos/acme/rl', TOKEN);
    expect(spent).toMatchObject({ status: 403, json: { message: expect.stringContaining('API rate limit exceeded') } });
    expect(spent.headers['x-ratelimit-remaining']).toBe('0');
    // Limits are per token: another token is untouched.
    expect((await rl('GET', '/repos/acme/rl', OTHER)).status).toBe(200);
    expect(limited.rateLimitRefusals).toMatchObject({ content_per_minute: 1, primary: 1 });
  });

  test('with a write gap set, a second mutation of one token within it is a secondary rate limit', async () => {
    limited.setRateLimits({ primaryPerHour: 5_000, minWriteGapMs: 1_000 });
    const close = (n: number) => rl('PATCH', `/repos/acme/rl/pulls/${n}`, OTHER, { state: 'closed' });
    expect((await close(1)).status).toBe(200);
    expect(await close(2)).toMatchObject({
      status: 403,
      json: { message: expect.stringContaining('secondary rate limit') },
    });
    expect(limited.rateLimitRefusals.write_gap).toBe(1);
  });
});

// GitHubClient against the GitHub sandbox: one request per failure (the step retries), rate limits,
// error classes, adoption, once-only comments, compensation calls, redaction and GitHub's published
// request schema.
import { describe, test, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createMemoryGitHubPacer, type GitHubPacer } from '../../domain/github-pacing.js';
import { Redactor } from '../../domain/redact.js';
import { isRepoUrlProblem, parseGitHubRepoUrl } from '../../domain/github-url.js';
import { createGitHubClient, type GitHubClient } from '../../adapters/github/github-client.js';
import { AppError } from '../../domain/errors.js';
import type { GitHubLimiterOptions } from '../../adapters/github/octokit-client.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { pushBranch } from '../../sandbox/branches.js';

const TOKEN = 'ghp_clientTestToken0123456789abcdefghijklmn';
const OWNER = 'acme';
const REPO = 'configs';
// Test timings: no write pacing; rate-limit waits keep GitHub's semantics.
const FAST: GitHubLimiterOptions = { writeMinTimeMs: 0 };
let sandbox: GitHubSandbox;

function client(overrides: { token?: string; limiter?: GitHubLimiterOptions } = {}): GitHubClient {
  return createGitHubClient({
    apiBaseUrl: sandbox.apiBaseUrl,
    token: overrides.token ?? TOKEN,
    owner: OWNER,
    repo: REPO,
    redactor: new Redactor(),
    limiter: { ...FAST, ...overrides.limiter },
  });
}
const branch = (name: string) => pushBranch(sandbox, { owner: OWNER, repo: REPO, token: TOKEN, branch: name });
const pr = (head: string) => ({ head, base: 'main', title: `RelyLoop: ${head}`, body: 'body' });
async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}
const pullPosts = () =>
  sandbox.requests.filter((r) => r.method === 'POST' && r.path === `/api/v3/repos/${OWNER}/${REPO}/pulls`);
const SECONDARY = {
  message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  documentation_url: 'https://docs.github.com/rest',
};

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({ owner: OWNER, repo: REPO, token: TOKEN, files: { 'params.json': '{"a":1}\n' } });
});
afterEach(() => sandbox.clearFaults());
afterAll(async () => sandbox.close());

describe('pull requests', () => {
  test('a 502 fails the call once, retryable; the next call (the step retried) opens exactly one PR', async () => {
    await branch('t/502');
    sandbox.injectFaults({
      method: 'POST',
      path: /\/pulls$/,
      faults: [{ status: 502, body: { message: 'Bad Gateway' } }],
    });
    const before = pullPosts().length;
    expect(await failure(client().createOrAdoptPullRequest(pr('t/502')))).toMatchObject({
      code: 'GITHUB_API_FAILED',
      retryable: true,
      upstreamStatus: 502,
    });
    const created = await client().createOrAdoptPullRequest(pr('t/502'));
    expect(created).toMatchObject({
      headRef: 't/502',
      baseRef: 'main',
      state: 'open',
      adopted: false,
      url: `${sandbox.origin}/${OWNER}/${REPO}/pull/${created.number}`,
    });
    expect(
      pullPosts()
        .slice(before)
        .map((r) => r.status),
    ).toEqual([502, 201]);
    expect(sandbox.pulls(OWNER, REPO).filter((p) => p.head.ref === 't/502')).toHaveLength(1);
  });

  test("GitHub's lag after a push (422 head invalid) is waited out inside the one call; nothing else is", async () => {
    sandbox.setConsistencyLag(OWNER, REPO, 700);
    await branch('t/lag'); // the push starts the lag
    const before = pullPosts().length;
    const created = await client().createOrAdoptPullRequest(pr('t/lag'));
    sandbox.setConsistencyLag(OWNER, REPO, 0);
    const statuses = pullPosts()
      .slice(before)
      .map((r) => r.status);
    expect(created).toMatchObject({ headRef: 't/lag', adopted: false });
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses).toEqual([...statuses.slice(0, -1).map(() => 422), 201]);
  });

  test('422 "already exists" adopts the open PR for the same head', async () => {
    await branch('t/adopt');
    const first = await client().createOrAdoptPullRequest(pr('t/adopt'));
    const second = await client().createOrAdoptPullRequest(pr('t/adopt'));
    expect(second).toEqual({ ...first, adopted: true });
    expect(sandbox.pulls(OWNER, REPO).filter((p) => p.head.ref === 't/adopt')).toHaveLength(1);
  });

  test('close, then delete the branch; deleting again counts as already gone', async () => {
    await branch('t/close');
    const gh = client();
    const { number } = await gh.createOrAdoptPullRequest(pr('t/close'));
    expect(await gh.closePullRequest(number)).toMatchObject({ number, state: 'closed' });
    expect(sandbox.pulls(OWNER, REPO).find((p) => p.number === number)?.state).toBe('closed');
    expect(await gh.deleteBranch('t/close')).toEqual({ deleted: true });
    expect(
      execFileSync('git', ['for-each-ref', 'refs/heads/t/close'], { cwd: sandbox.bareDir(OWNER, REPO) }).toString(),
    ).toBe('');
    expect(await gh.deleteBranch('t/close')).toEqual({ deleted: false });
  });
});

describe('GitHub Enterprise layout and pacing', () => {
  test('the client built from a parsed repo URL reaches the REST API under /api/v3', async () => {
    const ref = parseGitHubRepoUrl(sandbox.repoUrl(OWNER, REPO), { hosts: [sandbox.host], httpHosts: [sandbox.host] });
    if (isRepoUrlProblem(ref)) throw new Error(ref.message);
    expect(ref.apiBaseUrl).toBe(sandbox.apiBaseUrl);
    const gh = createGitHubClient({
      apiBaseUrl: ref.apiBaseUrl,
      token: TOKEN,
      owner: ref.owner,
      repo: ref.repo,
      redactor: new Redactor(),
      limiter: FAST,
    });
    expect(await gh.findOpenPullRequest('relyloop/no-such-branch')).toBeNull();
    expect(sandbox.requests.at(-1)?.path).toBe('/api/v3/repos/acme/configs/pulls');
  });

  test('writes through one client are spaced by the write limiter', async () => {
    await branch('t/pace');
    const gh = client({ limiter: { writeMinTimeMs: 300 } });
    const started = Date.now();
    const { number } = await gh.createOrAdoptPullRequest(pr('t/pace'));
    await gh.closePullRequest(number);
    await gh.closePullRequest(number);
    // Three writes: the second and third each wait for the 300 ms gap after the one before.
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
  });
});

describe('rate limits (docs/architecture.md "Forge behaviour")', () => {
  test.each([
    ['429 secondary with Retry-After: 1', 429, SECONDARY],
    ['403 secondary with Retry-After: 1', 403, SECONDARY],
    ['429 with only Retry-After: 1', 429, { message: 'Too Many Requests' }],
  ])('%s is handed back with the wait after one request, and the next call succeeds', async (label, status, body) => {
    const head = `t/rl-${label.replace(/\W+/g, '-')}`;
    await branch(head);
    sandbox.injectFaults({
      method: 'POST',
      path: /\/pulls$/,
      faults: [{ status, headers: { 'retry-after': '1' }, body }],
    });
    const before = pullPosts().length;
    const error = await failure(client().createOrAdoptPullRequest(pr(head)));
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 1_000, upstreamStatus: status });
    expect(
      pullPosts()
        .slice(before)
        .map((r) => r.status),
    ).toEqual([status]);
    expect(await client().createOrAdoptPullRequest(pr(head))).toMatchObject({ headRef: head, adopted: false });
  });

  test('403 primary with reset in a second is handed back with the wait until the reset', async () => {
    const now = Date.now();
    const reset = Math.ceil(now / 1000) + 1;
    sandbox.injectFaults({
      method: 'POST',
      path: /\/pulls$/,
      faults: [
        {
          status: 403,
          headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
          body: { message: 'API rate limit exceeded for user ID 1.' },
        },
      ],
    });
    const gh = createGitHubClient({
      apiBaseUrl: sandbox.apiBaseUrl,
      token: TOKEN,
      owner: OWNER,
      repo: REPO,
      redactor: new Redactor(),
      limiter: FAST,
      now: () => now,
    });
    await branch('t/primary-short');
    const error = await failure(gh.createOrAdoptPullRequest(pr('t/primary-short')));
    // Until the reset, plus GitHub's advised second of margin.
    expect(error).toMatchObject({ retryable: true, retryAfterMs: reset * 1000 - now + 1000 });
  });

  test.each([
    ['403 secondary without Retry-After', 403, () => ({}), SECONDARY, 60_000, 60_000],
    ['429 with Retry-After: 120', 429, () => ({ 'retry-after': '120' }), SECONDARY, 120_000, 120_000],
    [
      '403 primary, reset in an hour',
      403,
      () => ({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600) }),
      { message: 'API rate limit exceeded for user ID 1.' },
      3_599_000,
      3_602_000,
    ],
  ])(
    '%s is handed back as retryable with the wait, after one request',
    async (_label, status, headers, body, min, max) => {
      sandbox.injectFaults({
        method: 'GET',
        path: /\/repos\/acme\/configs\/pulls$/,
        faults: [{ status, headers: headers(), body }],
      });
      const before = sandbox.requests.length;
      const error = await failure(client().findOpenPullRequest('relyloop/no-such-branch'));
      // One request: the client neither slept through the wait nor asked again.
      expect(sandbox.requests.slice(before)).toHaveLength(1);
      expect(error).toMatchObject({ retryable: true, code: 'GITHUB_API_FAILED', upstreamStatus: status });
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(min);
      expect(error.retryAfterMs).toBeLessThanOrEqual(max);
    },
  );
});

describe('error classes', () => {
  test.each([
    [
      '401 (wrong token)',
      { token: 'ghp_wrongToken0123456789abcdefghijklmnopqr' },
      undefined,
      'GITHUB_AUTH_FAILED',
      false,
      401,
      1,
    ],
    [
      '403 that is not a rate limit',
      {},
      { status: 403, body: { message: 'Resource not accessible by integration' } },
      'GITHUB_AUTH_FAILED',
      false,
      403,
      1,
    ],
    ['404', {}, { status: 404, body: { message: 'Not Found' } }, 'GITHUB_AUTH_FAILED', false, 404, 1],
    [
      '502 (one request: the step retries, not the client)',
      {},
      { status: 502, body: { message: 'Bad Gateway' } },
      'GITHUB_API_FAILED',
      true,
      502,
      1,
    ],
  ])('%s', async (_label, overrides, fault, code, retryable, status, attempts) => {
    if (fault !== undefined)
      sandbox.injectFaults({
        method: 'GET',
        path: /\/repos\/acme\/configs\/pulls$/,
        faults: [fault, fault, fault, fault],
      });
    const before = sandbox.requests.length;
    const error = await failure(client(overrides).findOpenPullRequest('relyloop/no-such-branch'));
    expect(error).toMatchObject({ code, retryable, upstreamStatus: status });
    expect(sandbox.requests.slice(before)).toHaveLength(attempts);
    expect(error.message).not.toContain(TOKEN);
  });

  test('a connection reset fails the one request, retryable', async () => {
    sandbox.injectFaults({
      method: 'GET',
      path: /\/repos\/acme\/configs\/pulls$/,
      faults: [{ reset: true }],
    });
    const before = sandbox.requests.length;
    expect(await failure(client().findOpenPullRequest('relyloop/no-such-branch'))).toMatchObject({
      retryable: true,
      code: 'GITHUB_API_FAILED',
    });
    expect(sandbox.requests.slice(before)).toHaveLength(1);
  });

  test('a failure message quoting the token is redacted', async () => {
    sandbox.injectFaults({
      method: 'GET',
      path: /\/repos\/acme\/configs\/pulls$/,
      faults: [{ status: 422, body: { message: `token ${TOKEN} is odd` } }],
    });
    const error = await failure(client().findOpenPullRequest('relyloop/no-such-branch'));
    expect(error.message).toContain('[REDACTED-GH-TOKEN]');
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('comments', () => {
  test('the marker prevents a second post, also when the first answer was lost', async () => {
    await branch('t/comment');
    const { number } = await client().createOrAdoptPullRequest(pr('t/comment'));
    // The first POST is served (the comment exists) but its answer is held until after the client
    // gave up; the step's retry must find the comment, not repost.
    const held = sandbox.holdNext({ method: 'POST', path: /\/comments$/, when: 'after' });
    const slow = client({ limiter: { requestTimeoutMs: 300 } });
    const marker = '<!-- relyloop:chart:proposal-1 -->';
    const body = '![Parameter importance](x.png)';
    expect(await failure(slow.createCommentOnce({ issueNumber: number, body, marker }))).toMatchObject({
      retryable: true,
    });
    const retried = await client().createCommentOnce({ issueNumber: number, body, marker });
    held.release();
    expect(retried).toMatchObject({ created: false, comment: { body: `${body}\n\n${marker}` } });
    expect(await client().createCommentOnce({ issueNumber: number, body, marker })).toEqual(retried);
    expect(sandbox.comments(OWNER, REPO, number)).toHaveLength(1);
    expect(sandbox.comments(OWNER, REPO, number)[0]?.body).toBe(`![Parameter importance](x.png)\n\n${marker}`);
  });

  test('posts once when nothing is in the way', async () => {
    await branch('t/comment2');
    const gh = client();
    const { number } = await gh.createOrAdoptPullRequest(pr('t/comment2'));
    const marker = '<!-- m2 -->';
    expect((await gh.createCommentOnce({ issueNumber: number, body: `x ${marker}`, marker })).created).toBe(true);
    expect((await gh.createCommentOnce({ issueNumber: number, body: `x ${marker}`, marker })).created).toBe(false);
    expect(await gh.listComments(number)).toHaveLength(1);
  });

  test('the marker is found past the first page (250 comments, 100 per page)', async () => {
    await branch('t/comment-pages');
    const gh = client();
    const { number } = await gh.createOrAdoptPullRequest(pr('t/comment-pages'));
    const marker = '<!-- relyloop:chart:paged -->';
    sandbox.seedComments(
      OWNER,
      REPO,
      number,
      Array.from({ length: 250 }, (_, i) => (i === 230 ? `chart ${marker}` : `review note ${i}`)),
    );
    const before = sandbox.requests.length;
    expect(await gh.createCommentOnce({ issueNumber: number, body: `chart ${marker}`, marker })).toMatchObject({
      created: false,
    });
    const pages = sandbox.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path.endsWith(`/issues/${number}/comments`));
    expect(pages.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(sandbox.comments(OWNER, REPO, number)).toHaveLength(250);
  });
});

describe('what was sent', () => {
  test('texts are redacted before they are sent', async () => {
    await branch('t/redact');
    const { number } = await client().createOrAdoptPullRequest({
      ...pr('t/redact'),
      title: `T ${TOKEN}`,
      body: `B github_pat_${'x'.repeat(30)}`,
    });
    const stored = sandbox.pulls(OWNER, REPO).find((p) => p.number === number);
    expect(stored).toMatchObject({ title: 'T [REDACTED-GH-TOKEN]', body: 'B [REDACTED-GH-TOKEN]' });
  });

  test("every REST request carried GitHub's API version headers, passed the OpenAPI check, and no body held the token", () => {
    const rest = sandbox.requests.filter((r) => r.kind === 'rest');
    expect(rest.length).toBeGreaterThan(20);
    for (const r of rest) {
      expect(r.headers).toMatchObject({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    }
    expect(sandbox.validationFailures).toEqual([]);
    expect(sandbox.requests.filter((r) => r.body.includes(TOKEN))).toEqual([]);
  });
});

describe("pacing against a sandbox that enforces GitHub's write spacing", () => {
  // GitHub: at least one second between a token's mutative requests. The sandbox refuses a gap
  // under 900 ms (100 ms for arrival jitter) with a secondary rate limit.
  let strict: GitHubSandbox;
  const STRICT_TOKEN = 'ghs_pacingToken0123456789abcdefghijklmnopq';
  beforeAll(async () => {
    strict = await startGitHubSandbox({ rateLimits: { minWriteGapMs: 900 } });
    await strict.createRepo({ owner: OWNER, repo: REPO, token: STRICT_TOKEN, files: { 'params.json': '{"a":1}\n' } });
    for (const b of ['p/1', 'p/2', 'c/1', 'c/2'])
      await pushBranch(strict, { owner: OWNER, repo: REPO, token: STRICT_TOKEN, branch: b });
  });
  afterAll(async () => strict.close());
  const strictClient = (limiter?: GitHubLimiterOptions, pacer?: GitHubPacer) =>
    createGitHubClient({
      apiBaseUrl: strict.apiBaseUrl,
      token: STRICT_TOKEN,
      owner: OWNER,
      repo: REPO,
      redactor: new Redactor(),
      ...(limiter === undefined ? {} : { limiter }),
      ...(pacer === undefined ? {} : { pacer }),
    });

  test("production pacing: two clients of one token sharing the process's pacer, PRs and comments at once, meet no secondary limit", async () => {
    // As the service wires it: one pacer per process (in the database, shared by all processes).
    const pacer = createMemoryGitHubPacer();
    const [a, b] = [strictClient(undefined, pacer), strictClient(undefined, pacer)];
    const refusalsBefore = { ...strict.rateLimitRefusals };
    const requestsBefore = strict.requests.length;
    const opened = await Promise.all([a.createOrAdoptPullRequest(pr('p/1')), b.createOrAdoptPullRequest(pr('p/2'))]);
    await Promise.all(
      opened.map((p, i) =>
        [a, b][i]!.createCommentOnce({ issueNumber: p.number, body: 'chart <!-- m -->', marker: '<!-- m -->' }),
      ),
    );
    expect(strict.rateLimitRefusals).toEqual(refusalsBefore);
    const writes = strict.requests.slice(requestsBefore).filter((r) => r.method !== 'GET' && r.kind === 'rest');
    expect(writes.map((r) => r.status)).toEqual([201, 201, 201, 201]);
  }, 60_000);

  test("a request sent again for GitHub's lag after a push waits its write turn like any write", async () => {
    // A token of its own: no earlier test's write is within the gap of its first one.
    const lagToken = 'ghs_lagPacingToken0123456789abcdefghijklmnop';
    strict.grantAccess({
      owner: OWNER,
      repo: REPO,
      token: lagToken,
      permissions: { contents: 'write', pull_requests: 'write', issues: 'write' },
    });
    strict.setConsistencyLag(OWNER, REPO, 1_500);
    await pushBranch(strict, { owner: OWNER, repo: REPO, token: lagToken, branch: 'p/lag2' });
    const refusalsBefore = { ...strict.rateLimitRefusals };
    const from = strict.requests.length;
    const created = await createGitHubClient({
      apiBaseUrl: strict.apiBaseUrl,
      token: lagToken,
      owner: OWNER,
      repo: REPO,
      redactor: new Redactor(),
    }).createOrAdoptPullRequest(pr('p/lag2'));
    strict.setConsistencyLag(OWNER, REPO, 0);
    const posts = strict.requests.slice(from).filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'));
    expect(created).toMatchObject({ headRef: 'p/lag2' });
    expect(posts.map((r) => r.status)).toEqual([...posts.slice(0, -1).map(() => 422), 201]);
    expect(posts.length).toBeGreaterThanOrEqual(2);
    // The sandbox refuses writes of a token closer than 0.9 s: none was.
    expect(strict.rateLimitRefusals).toEqual(refusalsBefore);
  }, 60_000);

  test('the check can fail: without pacing the same work is refused', async () => {
    const fast = strictClient(FAST);
    const refusedBefore = strict.rateLimitRefusals.write_gap ?? 0;
    const results = await Promise.allSettled([
      fast.createOrAdoptPullRequest(pr('c/1')),
      fast.createOrAdoptPullRequest(pr('c/2')),
    ]);
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    expect(strict.rateLimitRefusals.write_gap).toBeGreaterThan(refusedBefore);
  }, 60_000);
});

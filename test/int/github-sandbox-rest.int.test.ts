// The sandbox's REST side: GitHub's status codes and messages, the OpenAPI check of requests and
// of the sandbox's own answers, faults.
import { describe, test, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { pushBranch } from '../../sandbox/branches.js';
import { OpenApiValidator } from '../../sandbox/openapi.js';

const TOKEN = 'ghp_sandboxRestToken0123456789abcdefghijkl';
let sandbox: GitHubSandbox;
const repoPath = '/repos/acme/configs';

async function call(
  method: string,
  path: string,
  body?: unknown,
  token = TOKEN,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${sandbox.apiBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `token ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text === '' ? undefined : (JSON.parse(text) as unknown),
    headers: response.headers,
  };
}

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({ owner: 'acme', repo: 'configs', token: TOKEN, files: { 'params.json': '{"a":1}\n' } });
  await pushBranch(sandbox, { owner: 'acme', repo: 'configs', token: TOKEN, branch: 'relyloop/study-1' });
  await pushBranch(sandbox, { owner: 'acme', repo: 'configs', token: TOKEN, branch: 'relyloop/study-2' });
});
afterEach(() => sandbox.clearFaults());
afterAll(async () => sandbox.close());

describe('authentication', () => {
  test.each([
    ['a wrong token', 'ghp_wrong0123456789abcdefghijklmnopqrstuvwx', 401, 'Bad credentials'],
    ['the right token', TOKEN, 200, undefined],
  ])('GET repo with %s', async (_label, token, status, message) => {
    const { status: got, json } = await call('GET', repoPath, undefined, token);
    expect(got).toBe(status);
    if (message !== undefined) expect(json).toMatchObject({ message });
    else expect(json).toMatchObject({ full_name: 'acme/configs', default_branch: 'main' });
  });

  test('no Authorization header is 401 Requires authentication', async () => {
    const response = await fetch(`${sandbox.apiBaseUrl}${repoPath}`);
    expect(response.status).toBe(401);
  });
});

describe('pull requests', () => {
  test('create, refuse a second for the same head, list by head, close', async () => {
    const created = await call('POST', `${repoPath}/pulls`, {
      head: 'relyloop/study-1',
      base: 'main',
      title: 'T',
      body: 'B',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      number: 1,
      state: 'open',
      html_url: `${sandbox.origin}/acme/configs/pull/1`,
      head: { ref: 'relyloop/study-1' },
      base: { ref: 'main' },
    });

    const again = await call('POST', `${repoPath}/pulls`, { head: 'relyloop/study-1', base: 'main', title: 'T2' });
    expect(again.status).toBe(422);
    expect(again.json).toMatchObject({
      message: 'Validation Failed',
      errors: [{ message: 'A pull request already exists for acme:relyloop/study-1.' }],
    });

    const listed = await call(
      'GET',
      `${repoPath}/pulls?head=${encodeURIComponent('acme:relyloop/study-1')}&state=open`,
    );
    expect((listed.json as { number: number }[]).map((p) => p.number)).toEqual([1]);

    const closed = await call('PATCH', `${repoPath}/pulls/1`, { state: 'closed' });
    expect(closed.json).toMatchObject({ state: 'closed' });
    expect(sandbox.pulls('acme', 'configs')[0]).toMatchObject({ number: 1, state: 'closed' });
  });

  test.each([
    ['head', { head: 'nope', base: 'main', title: 'x' }],
    ['base', { head: 'relyloop/study-2', base: 'nope', title: 'x' }],
  ])('422 when the %s branch does not exist in the git repo', async (field, body) => {
    const { status, json } = await call('POST', `${repoPath}/pulls`, body);
    expect(status).toBe(422);
    expect(json).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', field, code: 'invalid' }],
    });
  });

  test('422 when head has no commits beyond base', async () => {
    const { status, json } = await call('POST', `${repoPath}/pulls`, { head: 'main', base: 'main', title: 'x' });
    expect(status).toBe(422);
    expect(JSON.stringify(json)).toContain('No commits between main and main');
  });
});

describe('OpenAPI check', () => {
  test.each([
    ['missing head', { base: 'main', title: 'x' }, /must have required property 'head'/],
    [
      'an unknown field',
      { head: 'relyloop/study-2', base: 'main', title: 'x', labels: ['a'] },
      /must NOT have additional properties \(labels\)/,
    ],
    ['a wrong type', { head: 'relyloop/study-2', base: 'main', title: 'x', draft: 'yes' }, /\/draft: must be boolean/],
  ])('POST pulls with %s is 422 and recorded', async (_label, body, expected) => {
    const before = sandbox.validationFailures.length;
    const { status } = await call('POST', `${repoPath}/pulls`, body);
    expect(status).toBe(422);
    expect(sandbox.validationFailures.slice(before)).toEqual([expect.stringMatching(expected)]);
  });

  test('an unknown query parameter and a bad enum value are rejected', async () => {
    const before = sandbox.validationFailures.length;
    expect((await call('GET', `${repoPath}/pulls?state=merged`)).status).toBe(422);
    expect((await call('GET', `${repoPath}/pulls?headz=x`)).status).toBe(422);
    expect(sandbox.validationFailures.slice(before)).toHaveLength(2);
  });
});

describe("the sandbox's answers are checked against GitHub's response schemas", () => {
  const validator = new OpenApiValidator();

  test('the check can fail: a PR missing fields, an undocumented success status, an error without the envelope', () => {
    expect(validator.checkResponse('POST', '/repos/{owner}/{repo}/pulls', 201, { number: 1 })).toEqual(
      expect.arrayContaining([expect.stringMatching(/must have required property '_links'/)]),
    );
    expect(validator.checkResponse('POST', '/repos/{owner}/{repo}/pulls', 202, {})).toEqual([
      expect.stringMatching(/status 202 is not an answer GitHub documents/),
    ]);
    expect(validator.checkResponse('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', 422, { errors: 1 })).toEqual(
      expect.arrayContaining([expect.stringMatching(/must have required property 'message'/)]),
    );
    expect(validator.checkResponse('DELETE', '/repos/{owner}/{repo}/git/refs/{ref}', 204, undefined)).toEqual([]);
  });

  test("every answer of this suite's sandbox matched its schema; a sandbox that answered off schema fails on close", async () => {
    expect(sandbox.answerFailures).toEqual([]);
    const other = await startGitHubSandbox();
    other.answerFailures.push('201 to POST /repos/{owner}/{repo}/pulls: answer: must have required property _links');
    await expect(other.close()).rejects.toThrow(/answered 1 time\(s\) off GitHub's published response schemas/);
  });
});

describe('comments and refs', () => {
  test('comments are stored per issue and listed', async () => {
    const pr = await call('POST', `${repoPath}/pulls`, { head: 'relyloop/study-2', base: 'main', title: 'C' });
    const n = (pr.json as { number: number }).number;
    expect((await call('POST', `${repoPath}/issues/${n}/comments`, { body: 'hello <!-- m -->' })).status).toBe(201);
    const listed = await call('GET', `${repoPath}/issues/${n}/comments?per_page=100`);
    expect(listed.json).toMatchObject([{ body: 'hello <!-- m -->' }]);
    expect(sandbox.comments('acme', 'configs', n)).toMatchObject([{ body: 'hello <!-- m -->' }]);
    expect((await call('POST', `${repoPath}/issues/999/comments`, { body: 'x' })).status).toBe(404);
  });

  test('DELETE a branch ref removes it from the bare repo; a second time is 422', async () => {
    await pushBranch(sandbox, { owner: 'acme', repo: 'configs', token: TOKEN, branch: 'to/delete' });
    const branches = () =>
      execFileSync('git', ['for-each-ref', '--format=%(refname)', 'refs/heads/to'], {
        cwd: sandbox.bareDir('acme', 'configs'),
      })
        .toString()
        .trim();
    expect(branches()).toBe('refs/heads/to/delete');
    expect((await call('DELETE', `${repoPath}/git/refs/${encodeURIComponent('heads/to/delete')}`)).status).toBe(204);
    expect(branches()).toBe('');
    const again = await call('DELETE', `${repoPath}/git/refs/heads/to/delete`);
    expect(again.status).toBe(422);
    expect(again.json).toMatchObject({ message: 'Reference does not exist' });
  });
});

describe('faults', () => {
  test('are served in order, then the real answer', async () => {
    sandbox.injectFaults({
      method: 'GET',
      path: /^\/api\/v3\/repos\/acme\/configs$/,
      faults: [{ status: 502 }, { status: 429, headers: { 'retry-after': '1' }, body: { message: 'slow down' } }],
    });
    const seen = [await call('GET', repoPath), await call('GET', repoPath), await call('GET', repoPath)];
    expect(seen.map((s) => s.status)).toEqual([502, 429, 200]);
    expect(seen[1]?.headers.get('retry-after')).toBe('1');
  });

  test('a reset drops the connection; a delay postpones the answer', async () => {
    sandbox.injectFaults({ path: /\/repos\/acme\/configs$/, faults: [{ reset: true }, { delayMs: 300 }] });
    await expect(call('GET', repoPath)).rejects.toThrow();
    const started = Date.now();
    expect((await call('GET', repoPath)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('the request log records headers, query and body', () => {
    const post = sandbox.requests.find((r) => r.kind === 'rest' && r.method === 'POST' && r.path.endsWith('/pulls'));
    expect(post).toMatchObject({
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
      status: 201,
    });
    expect(post?.body).toContain('relyloop/study-1');
  });
});

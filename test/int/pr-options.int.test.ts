// PR options through the GitHub client against the sandbox: a draft PR, labels,
// review requests and assignees added after creation; a commit built and signed by GitHub through
// the Git Data API and a create-only branch ref; what GitHub refuses becomes a warning and
// the others still apply, while a transient failure fails the call for the step to retry; GitHub's
// "Could not resolve to a node" right after creation is tried again; an adopted PR gets nothing
// twice. Request bodies are checked against GitHub's OpenAPI.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createGitHubClient, type GitHubClient } from '../../adapters/github/github-client.js';
import { NO_PR_OPTIONS, type PrOptions } from '../../domain/pr-options.js';
import { Redactor } from '../../domain/redact.js';
import { pushBranch } from '../../sandbox/branches.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';
import { assertGit, runGit } from '../../sandbox/git-cli.js';

const TOKEN = `ghp_${'Pr0pt10ns'.repeat(4)}`;
let sandbox: GitHubSandbox;
let gh: GitHubClient;
let seq = 0;

async function newPr(draft = false): Promise<number> {
  const branch = `relyloop/options-${++seq}`;
  await pushBranch(sandbox, { owner: 'acme', repo: 'opts', token: TOKEN, branch });
  return (await gh.createOrAdoptPullRequest({ head: branch, base: 'main', title: `Options ${seq}`, body: 'b', draft }))
    .number;
}
const pull = (n: number) => sandbox.pulls('acme', 'opts').find((p) => p.number === n);
const writes = () =>
  sandbox.requests.filter(
    (r) => r.kind === 'rest' && r.method === 'POST' && /\/(labels|requested_reviewers|assignees)$/.test(r.path),
  ).length;
const options = (o: Partial<PrOptions>): PrOptions => ({ ...NO_PR_OPTIONS, ...o });

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({ owner: 'acme', repo: 'opts', token: TOKEN, files: { 'p.json': '{}\n' } });
  sandbox.addCollaborators('acme', 'opts', { users: ['alice', 'bob'], teams: ['search-team'] });
  gh = createGitHubClient({
    apiBaseUrl: sandbox.apiBaseUrl,
    token: TOKEN,
    owner: 'acme',
    repo: 'opts',
    redactor: new Redactor(),
    limiter: { writeMinTimeMs: 0 },
  });
});
afterAll(async () => sandbox.close());

describe('PR options', () => {
  test('a draft, labelled PR with review requests and an assignee', async () => {
    const n = await newPr(true);
    const warnings = await gh.applyPrOptions(
      n,
      options({
        labels: ['relyloop', 'search tuning'],
        reviewers: ['alice'],
        teamReviewers: ['search-team'],
        assignees: ['bob'],
      }),
    );
    expect(warnings).toEqual([]);
    expect(pull(n)).toMatchObject({
      draft: true,
      labels: ['relyloop', 'search tuning'],
      requested_reviewers: ['alice'],
      requested_teams: ['search-team'],
      assignees: ['bob'],
    });
    expect(sandbox.validationFailures).toEqual([]);
  });

  test('a reviewer GitHub refuses is a warning; the others are still asked', async () => {
    const n = await newPr();
    const warnings = await gh.applyPrOptions(
      n,
      options({ labels: ['relyloop'], reviewers: ['alice', 'ghost-user'], teamReviewers: ['search-team'] }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^review request for ghost-user not applied: .*422.*collaborators/);
    expect(pull(n)).toMatchObject({
      labels: ['relyloop'],
      requested_reviewers: ['alice'],
      requested_teams: ['search-team'],
    });
  });

  test('GitHub\'s "Could not resolve to a node" right after creation is tried again', async () => {
    const n = await newPr();
    sandbox.injectFaults({
      method: 'POST',
      path: /\/issues\/\d+\/labels$/,
      faults: [
        {
          status: 422,
          body: {
            message: "Could not resolve to a node with the global id of 'PR_kwDOabc'",
            documentation_url: 'https://docs.github.com/rest',
          },
        },
        {
          status: 422,
          body: {
            message: "Could not resolve to a node with the global id of 'PR_kwDOabc'",
            documentation_url: 'https://docs.github.com/rest',
          },
        },
      ],
    });
    expect(await gh.applyPrOptions(n, options({ labels: ['relyloop'] }))).toEqual([]);
    expect(pull(n)?.labels).toEqual(['relyloop']);
  });

  test('a transient failure (502) of an option is not a warning: it fails the call, and the retry adds what is missing', async () => {
    const n = await newPr();
    sandbox.injectFaults({ method: 'POST', path: /\/issues\/\d+\/assignees$/, faults: [{ status: 502 }] });
    const o = options({ labels: ['relyloop'], assignees: ['bob'] });
    await expect(gh.applyPrOptions(n, o)).rejects.toMatchObject({ code: 'GITHUB_API_FAILED', retryable: true });
    expect(pull(n)?.labels).toEqual(['relyloop']);
    expect(pull(n)?.assignees ?? []).toEqual([]);
    const before = writes();
    expect(await gh.applyPrOptions(n, o)).toEqual([]);
    // Only the assignee is asked for again; the label is already there.
    expect(writes() - before).toBe(1);
    expect(pull(n)).toMatchObject({ labels: ['relyloop'], assignees: ['bob'] });
  });

  test('applied again (an adopted PR, a retried attempt): nothing is added twice, no request is made', async () => {
    const n = await newPr();
    const o = options({ labels: ['Relyloop'], reviewers: ['alice'], assignees: ['bob'] });
    expect(await gh.applyPrOptions(n, o)).toEqual([]);
    const before = writes();
    expect(await gh.applyPrOptions(n, { ...o, labels: ['relyloop'] })).toEqual([]);
    expect(writes()).toBe(before);
    expect(pull(n)).toMatchObject({ labels: ['Relyloop'], requested_reviewers: ['alice'], assignees: ['bob'] });
  });

  test('Git Data: GitHub builds a signed commit on the base tree (text inline, binary as a blob); a branch is created only once', async () => {
    const bare = sandbox.bareDir('acme', 'opts');
    const base = await assertGit(['rev-parse', 'refs/heads/main'], { cwd: bare, home: bare });
    const baseTree = await assertGit(['rev-parse', 'refs/heads/main^{tree}'], { cwd: bare, home: bare });
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]),
      Buffer.alloc(100, 7),
    ]);
    const files = [
      { path: 'p.json', content: Buffer.from('{"changed": true}\n'), mode: '100644' as const },
      { path: 'charts/c.png', content: png, mode: '100644' as const },
    ];
    const sha = await gh.createSignedCommit({
      baseTree,
      parent: base,
      files,
      message: 'Signed\n\nRelyLoop-Proposal: x\n',
    });
    expect(sandbox.isVerifiedCommit('acme', 'opts', sha)).toBe(true);
    expect(await assertGit(['show', `${sha}:p.json`], { cwd: bare, home: bare })).toBe('{"changed": true}');
    expect(
      (await runGit(['cat-file', 'blob', `${sha}:charts/c.png`], { cwd: bare, home: bare })).stdout.equals(png),
    ).toBe(true);
    expect(await assertGit(['diff', '--name-only', base, sha], { cwd: bare, home: bare })).toBe('charts/c.png\np.json');

    expect(await gh.createBranchRef('relyloop/signed', sha)).toEqual({ created: true });
    const other = await gh.createSignedCommit({
      baseTree,
      parent: base,
      files: [files[0] as (typeof files)[number]],
      message: 'Other\n',
    });
    expect(await gh.createBranchRef('relyloop/signed', other)).toEqual({ created: false, tip: sha });
    expect(await assertGit(['rev-parse', 'refs/heads/relyloop/signed'], { cwd: bare, home: bare })).toBe(sha);
    expect(sandbox.validationFailures).toEqual([]);
  });

  test('no options: no request at all', async () => {
    const n = await newPr();
    const before = sandbox.requests.length;
    expect(await gh.applyPrOptions(n, NO_PR_OPTIONS)).toEqual([]);
    expect(sandbox.requests.length).toBe(before);
  });
});

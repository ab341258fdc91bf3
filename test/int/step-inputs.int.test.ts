// The token goes only where it is needed: steps on the local object store (read the params file,
// commit) work without the secret; the steps that reach the remote read it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createAppTokenSource } from '../../adapters/github/app-tokens.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGitActivities } from '../../activities/git/git-activities.js';
import { createGitRepoCache } from '../../adapters/git/repo-cache.js';
import { createMemoryGitHubPacer, GITHUB_PACING_RULES } from '../../domain/github-pacing.js';
import { NO_PR_OPTIONS } from '../../domain/pr-options.js';
import { Redactor } from '../../domain/redact.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';

const TOKEN = 'ghp_legacyInputToken0123456789abcdefghijk';
const OWNER = 'acme';
const REPO = 'configs';
let sandbox: GitHubSandbox;
let secretsDir: string;

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    files: { 'params.json': '{"a":1}\n', 'clusters/prod/search.params.json': '{\n  "a": 1\n}\n' },
  });
  secretsDir = await mkdtemp(path.join(tmpdir(), 'legacy-inputs-'));
  await writeFile(path.join(secretsDir, 'gh'), `${TOKEN}\n`, { mode: 0o600 });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
  await rm(secretsDir, { recursive: true, force: true });
});

test('reading the params file and committing need no secret; sync and push read it', async () => {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'step-inputs-cache-'));
  const redactor = new Redactor();
  const git = createGitActivities({
    secretsDir,
    redactor,
    hostPolicies: { github: { hosts: [sandbox.host], httpHosts: [sandbox.host] }, gitea: { hosts: [] } },
    appTokens: createAppTokenSource({ redactor }),
    cache: createGitRepoCache({ cacheDir, redactor, author: { name: 'relyloop-bot', email: 'bot@example.com' } }),
    chartDir: path.join(cacheDir, '.charts'),
    github: { pacer: createMemoryGitHubPacer({ ...GITHUB_PACING_RULES, writeGapMs: 0 }) },
  });
  const repo = {
    configRepoId: '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a',
    repoUrl: sandbox.repoUrl(OWNER, REPO),
    authRef: 'gh_local',
    baseBranch: 'main',
    provider: 'github' as const,
    prOptions: NO_PR_OPTIONS,
  };
  await writeFile(path.join(secretsDir, 'gh_local'), `${TOKEN}\n`, { mode: 0o600 });
  try {
    const { baseCommit } = await git.syncRepoCache({ repo });
    await rm(path.join(secretsDir, 'gh_local')); // the secret is gone from here on
    const file = await git.readParamsFile({ repo, baseCommit, configPath: 'clusters/prod', templateName: 'search' });
    const change = await git.applyConfigDiff({
      paramsPath: file.path,
      text: file.text,
      diff: { a: { from: 1, to: 2 } },
      declaredParams: ['a'],
    });
    const { commit } = await git.commitChange({
      repo,
      baseCommit,
      change,
      describe: {
        proposalId: '0b6a4f0e-2d3c-4b5a-8e9f-1a2b3c4d5e6f',
        templateName: 'search',
        clusterName: 'prod',
        study: null,
      },
    });
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    await expect(
      git.pushBranch({ repo, branch: 'relyloop/manual-x', commit, proposalId: '0b6a4f0e-2d3c-4b5a-8e9f-1a2b3c4d5e6f' }),
    ).rejects.toMatchObject({ code: 'GITHUB_AUTH_FAILED', message: expect.stringContaining('missing') });
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}, 60_000);

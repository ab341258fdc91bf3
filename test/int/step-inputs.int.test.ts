// What the steps take (issue 11). Steps 12 and 13 take narrowed inputs; a run scheduled before
// that passed the whole proposal, and the activities still accept it, so a run in flight during an
// upgrade goes on: both shapes must open the same PR and post the same comment. And the token goes
// only where it is needed: steps on the local object store (read the params file, commit) work
// without the secret; the steps that reach the remote read it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createAppTokenSource } from '../../adapters/github/app-tokens.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGitActivities } from '../../activities/git/git-activities.js';
import { createGitRepoCache } from '../../adapters/git/repo-cache.js';
import { createForgeActivities } from '../../activities/forge/forge-activities.js';
import type { ProposalContext } from '../../activities/types.js';
import { createMemoryGitHubPacer, GITHUB_PACING_RULES } from '../../domain/github-pacing.js';
import { Redactor } from '../../domain/redact.js';
import { studySummaryOf } from '../../domain/step-inputs.js';
import { pushBranch } from '../../sandbox/branches.js';
import { startGitHubSandbox, type GitHubSandbox } from '../../sandbox/index.js';

const TOKEN = 'ghp_legacyInputToken0123456789abcdefghijk';
const OWNER = 'acme';
const REPO = 'configs';
let sandbox: GitHubSandbox;
let secretsDir: string;

beforeAll(async () => {
  sandbox = await startGitHubSandbox();
  await sandbox.createRepo({ owner: OWNER, repo: REPO, token: TOKEN, files: { 'params.json': '{"a":1}\n', 'clusters/prod/search.params.json': '{\n  "a": 1\n}\n' } });
  secretsDir = await mkdtemp(path.join(tmpdir(), 'legacy-inputs-'));
  await writeFile(path.join(secretsDir, 'gh'), `${TOKEN}\n`, { mode: 0o600 });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
  await rm(secretsDir, { recursive: true, force: true });
});

test('the whole proposal (old runs) and the narrowed input (new runs) open the same PR and comment', async () => {
  const activities = createForgeActivities({
    secretsDir, redactor: new Redactor(), hostPolicy: { hosts: [sandbox.host], httpHosts: [sandbox.host] }, appTokens: createAppTokenSource({ redactor: new Redactor() }),
    relyloopBaseUrl: 'https://relyloop.example.com', pacer: createMemoryGitHubPacer({ ...GITHUB_PACING_RULES, writeGapMs: 0 }),
  });
  const repo = { configRepoId: '7a1f3e52-5b0e-4a8e-9c61-2f0c1f6d8b11', repoUrl: sandbox.repoUrl(OWNER, REPO), authRef: 'gh', baseBranch: 'main' };
  const proposal: ProposalContext = {
    proposalId: '0b6a4f0e-2d3c-4b5a-8e9f-1a2b3c4d5e6f', status: 'pending', clusterId: 'c', clusterName: 'prod', templateName: 'search',
    declaredParams: ['a'], configPath: 'clusters/prod', repo,
    study: { id: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b', name: 'Tune a', metric: 'ndcg@10', baselineMetric: 0.4, bestMetric: 0.45, parameterImportance: { a: 1 }, suggestedFollowups: ['more a'] },
    configDiff: { a: { from: 1, to: 2 } }, metricDelta: { 'ndcg@10': { baseline: 0.4, achieved: 0.45, delta_pct: 12.5 } },
  };
  const changes = [{ key: 'a', from: 1, to: 2, fileValue: 1, drift: false, added: false }];
  for (const branch of ['relyloop/old-shape', 'relyloop/new-shape']) await pushBranch(sandbox, { owner: OWNER, repo: REPO, token: TOKEN, branch });

  const old = await activities.openPullRequest({ proposal, branch: 'relyloop/old-shape', changes, chartRendered: true } as never);
  const current = await activities.openPullRequest({
    repo, proposalId: proposal.proposalId, branch: 'relyloop/new-shape', study: studySummaryOf(proposal.study, proposal.metricDelta), changes, chartRendered: true,
  });
  const pulls = sandbox.pulls(OWNER, REPO);
  const [oldPr, newPr] = [old.number, current.number].map((n) => pulls.find((p) => p.number === n));
  expect(oldPr?.title).toBe('RelyLoop: Tune a');
  expect(newPr?.title).toBe(oldPr?.title);
  expect(newPr?.body).toBe(oldPr?.body);

  await activities.commentChart({ proposal, prNumber: old.number, branch: 'relyloop/old-shape' } as never);
  await activities.commentChart({ repo, proposalId: proposal.proposalId, studyId: proposal.study?.id as string, prNumber: current.number, branch: 'relyloop/new-shape' });
  const bodies = [old.number, current.number].map((n) => sandbox.comments(OWNER, REPO, n).map((c) => c.body.replaceAll('old-shape', 'X').replaceAll('new-shape', 'X')));
  expect(bodies[0]).toHaveLength(1);
  expect(bodies[1]).toEqual(bodies[0]);
}, 60_000);

test('reading the params file and committing need no secret; sync and push read it', async () => {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'step-inputs-cache-'));
  const redactor = new Redactor();
  const git = createGitActivities({
    secretsDir, redactor, hostPolicy: { hosts: [sandbox.host], httpHosts: [sandbox.host] }, appTokens: createAppTokenSource({ redactor }),
    cache: createGitRepoCache({ cacheDir, redactor, author: { name: 'relyloop-bot', email: 'bot@example.com' } }), chartDir: path.join(cacheDir, '.charts'),
    github: { pacer: createMemoryGitHubPacer({ ...GITHUB_PACING_RULES, writeGapMs: 0 }) },
  });
  const repo = { configRepoId: '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a', repoUrl: sandbox.repoUrl(OWNER, REPO), authRef: 'gh_local', baseBranch: 'main' };
  await writeFile(path.join(secretsDir, 'gh_local'), `${TOKEN}\n`, { mode: 0o600 });
  try {
    const { baseCommit } = await git.syncRepoCache({ repo });
    await rm(path.join(secretsDir, 'gh_local')); // the secret is gone from here on
    const file = await git.readParamsFile({ repo, baseCommit, configPath: 'clusters/prod', templateName: 'search' });
    const change = await git.applyConfigDiff({ paramsPath: file.path, text: file.text, diff: { a: { from: 1, to: 2 } }, declaredParams: ['a'] });
    const { commit } = await git.commitChange({
      repo, baseCommit, change, describe: { proposalId: '0b6a4f0e-2d3c-4b5a-8e9f-1a2b3c4d5e6f', templateName: 'search', clusterName: 'prod', study: null },
    });
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    await expect(git.pushBranch({ repo, branch: 'relyloop/manual-x', commit, proposalId: '0b6a4f0e-2d3c-4b5a-8e9f-1a2b3c4d5e6f' })).rejects.toMatchObject({ code: 'GITHUB_AUTH_FAILED', message: expect.stringContaining('missing') });
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}, 60_000);

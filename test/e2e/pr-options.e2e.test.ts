// PR options end to end: a config repo asks for draft PRs, labels, reviewers, a team
// and an assignee; one reviewer does not exist. The PR opens as a draft with everything GitHub
// accepts; the refused reviewer is a warning on the run's open_pr step, in the status view.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal } from '../support/open-pr-fixtures.js';

let h: OpenPrHarness;

beforeAll(async () => {
  h = await startOpenPrHarness();
}, 120_000);
afterAll(async () => h?.close(), 60_000);

test('draft + labels + reviewers applied; a reviewer that does not exist is a warning and the PR still opens', async () => {
  const s = await seedProposal(h);
  h.sandbox.addCollaborators(OWNER, s.repoName, { users: ['alice', 'bob'], teams: ['search-relevance'] });
  const pr_options = {
    draft: true,
    labels: ['relyloop', 'search-tuning'],
    reviewers: ['alice', 'no-such-user'],
    team_reviewers: ['search-relevance'],
    assignees: ['bob'],
  };
  const patched = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { pr_options });
  expect(patched).toMatchObject({ status: 200, body: { pr_options } });

  const started = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(started.status).toBe(202);
  const result = await h.env.client.workflow.getHandle(started.body.workflow_id).result();
  expect(result).toMatchObject({ outcome: 'opened' });

  const [pull] = h.sandbox.pulls(OWNER, s.repoName);
  expect(pull).toMatchObject({
    state: 'open',
    draft: true,
    labels: ['relyloop', 'search-tuning'],
    requested_reviewers: ['alice'],
    requested_teams: ['search-relevance'],
    assignees: ['bob'],
  });
  expect(h.sandbox.comments(OWNER, s.repoName, pull?.number as number)).toHaveLength(1);
  expect((await h.api('GET', `/proposals/${s.proposalId}`)).body).toMatchObject({
    status: 'pr_opened',
    pr_state: 'open',
    pr_open_error: null,
  });

  const view = (await h.api('GET', `/proposals/${s.proposalId}/open_pr`)).body as {
    steps: { step: string; status: string; note: string | null }[];
  };
  const openStep = view.steps.find((x) => x.step === 'open_pr');
  expect(openStep?.status).toBe('completed');
  expect(openStep?.note).toMatch(/^opened PR #1 — review request for no-such-user not applied: .*collaborators/);
  expect(h.sandbox.validationFailures).toEqual([]);
}, 90_000);

test('bad PR options are refused with the field named, and nothing changes', async () => {
  const s = await seedProposal(h, { study: false });
  const before = (await h.api('GET', `/config-repos/${s.configRepoId}`)).body;
  for (const [pr_options, field] of [
    [{ reviewers: ['-bad-login'] }, 'pr_options.reviewers.0'],
    [{ labels: ['a'.repeat(51)] }, 'pr_options.labels.0'],
    [{ labels: ['x', 'X'] }, 'pr_options.labels'],
    [{ assignees: Array.from({ length: 11 }, (_, i) => `user${i}`) }, 'pr_options.assignees'],
    [{ team_reviewers: ['Search Team'] }, 'pr_options.team_reviewers.0'],
    [{ draft: 'yes' }, 'pr_options.draft'],
    [{ reviewer: ['alice'] }, 'pr_options.reviewer'],
  ] as const) {
    const res = await h.api('PATCH', `/config-repos/${s.configRepoId}`, { pr_options });
    expect({ pr_options, status: res.status, code: res.body.detail.error_code, field: res.body.detail.field }).toEqual({
      pr_options,
      status: 422,
      code: 'VALIDATION_ERROR',
      field,
    });
  }
  expect((await h.api('GET', `/config-repos/${s.configRepoId}`)).body).toEqual(before);
}, 60_000);

// Which branch a PR is on, as each forge reports it (domain/forge.ts headBranchOf): Gitea moves the
// name of a deleted head branch from head.ref to head.label (pinned on a real Gitea in
// gitea-forge.int.test.ts); GitHub's head.ref is always the branch and its label `owner:branch`.
import { describe, expect, test } from '@jest/globals';
import { headBranchOf } from '../../domain/forge.js';
import { readPullRequestEvent } from '../../domain/pr-lifecycle.js';

const event = (head: Record<string, unknown>) => ({
  action: 'closed',
  number: 7,
  pull_request: {
    number: 7,
    state: 'closed',
    merged: true,
    merged_at: '2026-12-04T10:00:00Z',
    updated_at: '2026-12-04T10:00:00Z',
    head: { ...head, repo: { full_name: 'acme/cfg' } },
  },
  repository: { full_name: 'acme/cfg' },
});

describe('headBranchOf', () => {
  test.each([
    [{ ref: 'relyloop/study-1', label: 'acme:relyloop/study-1' }, 'relyloop/study-1'], // GitHub
    [{ ref: 'relyloop/study-1', label: 'relyloop/study-1' }, 'relyloop/study-1'], // Gitea, branch present
    [{ ref: 'refs/pull/7/head', label: 'relyloop/study-1' }, 'relyloop/study-1'], // Gitea, branch deleted
    [{ ref: 'refs/pull/7/head', label: 'fork:relyloop/study-1' }, 'refs/pull/7/head'], // a fork's label names no branch of ours
    [{ ref: 'refs/pull/7/head', label: '' }, 'refs/pull/7/head'],
    [{ ref: 'refs/pull/7/head' }, 'refs/pull/7/head'],
  ])('%j → %s', (head, branch) => {
    expect(headBranchOf(head)).toBe(branch);
  });

  test('a Gitea close after the branch was deleted is an observation of that branch', () => {
    expect(readPullRequestEvent(event({ ref: 'refs/pull/7/head', label: 'relyloop/study-1' }))).toMatchObject({
      kind: 'observation',
      observation: { branch: 'relyloop/study-1', state: 'merged' },
    });
  });

  test('a label the database cannot store is refused before anything is looked up', () => {
    expect(readPullRequestEvent(event({ ref: 'refs/pull/7/head', label: 'a\u0000b' }))).toMatchObject({
      kind: 'malformed',
      field: 'body.pull_request.head.label',
    });
    expect(readPullRequestEvent(event({ ref: 'refs/pull/7/head', label: 'x'.repeat(256) }))).toMatchObject({
      kind: 'malformed',
      field: 'body.pull_request.head.label',
    });
  });
});

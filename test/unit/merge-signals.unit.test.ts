// Which PRs a check event names, read from GitHub's own example payloads
// (@octokit/webhooks-examples): the webhook route wakes the merge waits of exactly those.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkTargetsOf } from '../../api/merge-signals.js';

const examples = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
) as { name: string; examples: Record<string, unknown>[] }[];
const exampleOf = (event: string, action?: string) => {
  const found = examples
    .find((e) => e.name === event)
    ?.examples.find((x) => action === undefined || x.action === action);
  if (found === undefined) throw new Error(`no example ${event}`);
  return found;
};

describe('checkTargetsOf', () => {
  test.each([
    ['check_run', 'completed', { prNumbers: [2], branches: ['changes'] }],
    ['check_suite', 'completed', { prNumbers: [2], branches: ['changes'] }],
    ['status', undefined, { prNumbers: [], branches: ['changes', 'master', 'gh-pages'] }],
  ] as const)("GitHub's %s example names its PRs and branches", (event, action, expected) => {
    const got = checkTargetsOf(event, exampleOf(event, action));
    expect({ prNumbers: got.prNumbers, branches: [...got.branches].sort() }).toEqual({
      prNumbers: expected.prNumbers,
      branches: [...expected.branches].sort(),
    });
  });

  test('what is not a PR number or a storable branch name is left out', () => {
    expect(
      checkTargetsOf('check_run', {
        check_run: {
          pull_requests: [{ number: -1 }, { number: 1.5 }, { number: '3' }, { number: 7 }],
          check_suite: { head_branch: 'a\u0000b', pull_requests: 'not a list' },
        },
      }),
    ).toEqual({ prNumbers: [7], branches: [] });
    expect(checkTargetsOf('status', { branches: [{ name: 'x'.repeat(256) }, null, { name: 'main' }] })).toEqual({
      prNumbers: [],
      branches: ['main'],
    });
  });
});

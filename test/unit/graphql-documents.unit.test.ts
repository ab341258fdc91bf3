// Every GraphQL document the product sends is valid against GitHub's published schema
// (@octokit/graphql-schema) — checked here on its own, as the sandbox checks each one it receives.
import { describe, expect, test } from '@jest/globals';
import { validate } from '@octokit/graphql-schema';
import { MERGE_GRAPHQL_DOCUMENTS } from '../../adapters/github/merge-client.js';

describe("GraphQL documents against GitHub's schema", () => {
  test.each(MERGE_GRAPHQL_DOCUMENTS.map((doc) => [/^(?:query|mutation) (\w+)/.exec(doc)?.[1] ?? doc, doc]))(
    '%s is valid',
    (_name, doc) => {
      expect(validate(doc).map((e) => e.message)).toEqual([]);
    },
  );

  test('the check fails on what GitHub would refuse: an unknown field, a wrong argument type', () => {
    expect(validate('query { repository(owner: "o", name: "r") { autoMergeAllowd } }').length).toBeGreaterThan(0);
    expect(
      validate(
        'mutation { enablePullRequestAutoMerge(input: { pullRequestId: "x", mergeMethod: FAST }) { clientMutationId } }',
      ).length,
    ).toBeGreaterThan(0);
  });
});

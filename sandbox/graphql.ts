// POST /api/graphql (Enterprise layout) or /graphql (github.com's api host): the part of GitHub's
// GraphQL API the product calls — a repository's auto-merge setting, its merge queue, a pull
// request's node, and the auto-merge and merge-queue mutations. Every document is first validated
// against GitHub's published schema (@octokit/graphql-schema): one it rejects is recorded in the
// sandbox's validationFailures (failing the suite, like a REST body off its OpenAPI description)
// and answered as GitHub does, 200 with `errors`. Valid documents are executed with graphql-js on
// that same schema, so fields, arguments, enums and nullability are GitHub's.
//   https://docs.github.com/en/graphql/reference/mutations#enablepullrequestautomerge
//   https://docs.github.com/en/graphql/reference/mutations#enqueuepullrequest
import { schema as published, validate as validateGitHubQuery } from '@octokit/graphql-schema';
import { buildClientSchema, graphql, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { accessOf, satisfies } from './access.js';
import { requiredChecksPass } from './checks.js';
import type { RestAnswer, RestApi } from './rest.js';
import type { RepoRecord } from './repos.js';
import { pullNodeId, type JsonContext } from './rest-json.js';
import type { SandboxPull } from './types.js';

let built: GraphQLSchema | undefined;
const githubSchema = () => (built ??= buildClientSchema(published.json as unknown as IntrospectionQuery));

export interface GraphqlDeps {
  rest: RestApi;
  repos: Map<string, RepoRecord>;
  knownTokens: Set<string>;
  validationFailures: string[];
  clock: { iso(): string };
}

type Found = { ctx: JsonContext; state: unknown; pull: SandboxPull };

/** The fields of a PullRequest node the product reads. */
function pullNode(ctx: JsonContext, pull: SandboxPull) {
  return {
    id: pullNodeId(ctx, pull),
    number: pull.number,
    headRefOid: pull.head.sha,
    state: pull.merged === true ? 'MERGED' : pull.state === 'open' ? 'OPEN' : 'CLOSED',
    autoMergeRequest:
      pull.auto_merge == null
        ? null
        : { enabledAt: pull.auto_merge.enabled_at, mergeMethod: pull.auto_merge.merge_method.toUpperCase() },
    isInMergeQueue: pull.queued === true,
    mergeQueueEntry: pull.queued === true ? queueEntry(ctx, pull) : null,
  };
}

function queueEntry(ctx: JsonContext, pull: SandboxPull) {
  return {
    id: `MQE_${pullNodeId(ctx, pull).slice(3)}`,
    position: 1,
    state: 'QUEUED',
    jump: false,
    solo: false,
    enqueuedAt: new Date().toISOString(),
  };
}

export async function handleGraphql(
  deps: GraphqlDeps,
  req: { headers: Record<string, string>; body: string },
): Promise<RestAnswer> {
  const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined || !deps.knownTokens.has(token))
    return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' } };
  let request: { query?: unknown; variables?: unknown };
  try {
    request = JSON.parse(req.body) as typeof request;
  } catch {
    return { status: 400, body: { message: 'Problems parsing JSON' } };
  }
  if (typeof request.query !== 'string')
    return {
      status: 200,
      body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] },
    };
  const invalid = validateGitHubQuery(request.query);
  if (invalid.length > 0) {
    deps.validationFailures.push(`POST /graphql: ${invalid.map((e) => e.message).join('; ')}`);
    return { status: 200, body: { errors: invalid.map((e) => ({ message: e.message, locations: e.locations })) } };
  }

  /** The token's write access to the PR's repository, as GitHub requires for these mutations. */
  const writable = (found: Found | undefined, id: string): Found => {
    if (found === undefined) throw new Error(`Could not resolve to a node with the global id of '${id}'`);
    const access = accessOf(deps.repos, deps.knownTokens, `${found.ctx.repo.owner}/${found.ctx.repo.repo}`, token);
    if (access.kind !== 'granted') throw new Error(`Could not resolve to a node with the global id of '${id}'`);
    if (!satisfies(access.grant, { pull_requests: 'write', contents: 'write' }))
      throw new Error('Resource not accessible by integration');
    return found;
  };
  const byNode = (id: string) => deps.rest.pullByNodeId(id) as Found | undefined;
  const rest = deps.rest;

  const rootValue = {
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const record = deps.repos.get(`${owner}/${name}`);
      const access = accessOf(deps.repos, deps.knownTokens, `${owner}/${name}`, token);
      if (record === undefined || access.kind !== 'granted')
        throw new Error(`Could not resolve to a Repository with the name '${owner}/${name}'.`);
      const checks = rest.checksOf(owner, name);
      return {
        name,
        autoMergeAllowed: checks.autoMergeAllowed,
        mergeQueue: ({ branch }: { branch?: string | null }) =>
          checks.mergeQueues.has(branch ?? record.defaultBranch)
            ? { id: `MQ_${Buffer.from(`${owner}/${name}:${branch}`).toString('base64url')}` }
            : null,
        pullRequest: async ({ number }: { number: number }) => {
          const found = await rest.pullFor(owner, name, number);
          if (found === undefined) throw new Error(`Could not resolve to a PullRequest with the number of ${number}.`);
          return pullNode(found.ctx, found.pull);
        },
      };
    },

    enablePullRequestAutoMerge: async ({ input }: { input: Record<string, unknown> }) => {
      const id = String(input.pullRequestId);
      const { ctx, state, pull } = writable(byNode(id), id);
      const checks = rest.checksOf(ctx.repo.owner, ctx.repo.repo);
      if (!checks.autoMergeAllowed) throw new Error('Pull request Auto merge is not allowed for this repository');
      if (pull.state !== 'open') throw new Error('Pull request Pull request is closed');
      if (typeof input.expectedHeadOid === 'string' && input.expectedHeadOid !== pull.head.sha)
        throw new Error('Pull request Head sha did not match expected head sha');
      const required = checks.required.get(pull.base.ref) ?? [];
      // GitHub refuses auto-merge for a PR that can be merged right now.
      if (required.length === 0 || requiredChecksPass(checks, pull.base.ref, pull.head.sha))
        throw new Error('Pull request Pull request is in clean status');
      const method = typeof input.mergeMethod === 'string' ? input.mergeMethod.toLowerCase() : 'merge';
      pull.auto_merge = { merge_method: method as 'merge' | 'squash' | 'rebase', enabled_at: deps.clock.iso() };
      await rest.settle(ctx, state as never, pull);
      return { clientMutationId: input.clientMutationId ?? null, pullRequest: pullNode(ctx, pull) };
    },

    disablePullRequestAutoMerge: ({ input }: { input: Record<string, unknown> }) => {
      const id = String(input.pullRequestId);
      const { ctx, pull } = writable(byNode(id), id);
      pull.auto_merge = null;
      return { clientMutationId: input.clientMutationId ?? null, pullRequest: pullNode(ctx, pull) };
    },

    enqueuePullRequest: async ({ input }: { input: Record<string, unknown> }) => {
      const id = String(input.pullRequestId);
      const { ctx, state, pull } = writable(byNode(id), id);
      const checks = rest.checksOf(ctx.repo.owner, ctx.repo.repo);
      if (!checks.mergeQueues.has(pull.base.ref))
        throw new Error(`Pull request The base branch ${pull.base.ref} does not use a merge queue`);
      if (pull.state !== 'open') throw new Error('Pull request Pull request is closed');
      if (typeof input.expectedHeadOid === 'string' && input.expectedHeadOid !== pull.head.sha)
        throw new Error('Pull request Head sha did not match expected head sha');
      pull.queued = true;
      const entry = queueEntry(ctx, pull);
      await rest.settle(ctx, state as never, pull);
      return { clientMutationId: input.clientMutationId ?? null, mergeQueueEntry: entry };
    },

    dequeuePullRequest: ({ input }: { input: Record<string, unknown> }) => {
      const id = String(input.id);
      const { ctx, pull } = writable(byNode(id), id);
      const entry = pull.queued === true ? queueEntry(ctx, pull) : null;
      pull.queued = false;
      return { clientMutationId: input.clientMutationId ?? null, mergeQueueEntry: entry };
    },
  };

  const result = await graphql({
    schema: githubSchema(),
    source: request.query,
    rootValue,
    variableValues: (request.variables ?? {}) as Record<string, unknown>,
  });
  return {
    status: 200,
    body: {
      ...(result.data === undefined ? {} : { data: result.data }),
      ...(result.errors === undefined
        ? {}
        : { errors: result.errors.map((e) => ({ type: 'UNPROCESSABLE', message: e.message, path: e.path })) }),
    },
  };
}

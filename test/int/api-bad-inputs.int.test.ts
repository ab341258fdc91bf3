// A table of bad inputs: each gets its exact status, error code and field, and the database is
// byte-for-byte unchanged afterwards (docs/architecture.md "Security rules": a bad input gets a
// clear 4xx and changes nothing).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { seedChain, startApiHarness, type ApiHarness, type RequestOptions } from '../support/api-harness.js';

interface Ctx {
  repoId: string;
  clusterId: string;
  templateId: string;
  studyId: string;
  secondTemplateName: string;
  otherClusterId: string;
  otherTemplateId: string;
  otherStudyId: string;
  giteaRepoId: string;
  pendingId: string;
  rejectedId: string;
  repoCursor: string;
  clusterCursor: string;
}
type Build = (c: Ctx) => { method: string; path: string; opts?: RequestOptions };
type Case = [name: string, build: Build, status: number, code: string, field?: string];

const MISSING = '6f1c1a52-3f5e-4d3a-9b7e-1a2b3c4d5e6f';
const repoBody = (over: Record<string, unknown>) => ({
  name: 'new-repo',
  repo_url: 'https://github.com/acme/new',
  auth_ref: 'gh_token',
  ...over,
});
const postRepo =
  (over: Record<string, unknown>): Build =>
  () => ({ method: 'POST', path: '/api/v1/config-repos', opts: { body: repoBody(over) } });
const postCluster =
  (over: Record<string, unknown>): Build =>
  (c) => ({
    method: 'POST',
    path: '/api/v1/clusters',
    opts: { body: { name: 'c2', config_repo_id: c.repoId, ...over } },
  });
const postTemplate =
  (over: Record<string, unknown>): Build =>
  (c) => ({
    method: 'POST',
    path: '/api/v1/templates',
    opts: { body: { cluster_id: c.clusterId, name: 'tpl', declared_params: ['a'], ...over } },
  });
const patchTemplate =
  (body: Record<string, unknown>): Build =>
  (c) => ({ method: 'PATCH', path: `/api/v1/templates/${c.templateId}`, opts: { body } });
const postStudy =
  (over: (c: Ctx) => Record<string, unknown>): Build =>
  (c) => ({
    method: 'POST',
    path: '/api/v1/studies',
    opts: { body: { name: 's', cluster_id: c.clusterId, template_id: c.templateId, metric: 'ndcg@10', ...over(c) } },
  });
const postProposal =
  (over: (c: Ctx) => Record<string, unknown>): Build =>
  (c) => ({
    method: 'POST',
    path: '/api/v1/proposals',
    opts: {
      body: {
        cluster_id: c.clusterId,
        template_id: c.templateId,
        config_diff: { 'bm25.k1': { from: 1.2, to: 1.5 } },
        ...over(c),
      },
    },
  });
const rawProposal =
  (diffJson: string): Build =>
  (c) => ({
    method: 'POST',
    path: '/api/v1/proposals',
    opts: { rawBody: `{"cluster_id":"${c.clusterId}","template_id":"${c.templateId}","config_diff":${diffJson}}` },
  });
const get =
  (path: (c: Ctx) => string): Build =>
  (c) => ({ method: 'GET', path: path(c) });
/**
 * Every route that takes a JSON body, with its OpenAPI path (a test below checks this list against
 * the OpenAPI document, so a new body route must join the depth rows).
 */
const BODY_ROUTES: [method: string, openApiPath: string, path: (c: Ctx) => string][] = [
  ['POST', '/api/v1/config-repos', () => '/api/v1/config-repos'],
  ['PATCH', '/api/v1/config-repos/{id}', (c) => `/api/v1/config-repos/${c.repoId}`],
  ['POST', '/api/v1/clusters', () => '/api/v1/clusters'],
  ['PATCH', '/api/v1/clusters/{id}', (c) => `/api/v1/clusters/${c.clusterId}`],
  ['POST', '/api/v1/templates', () => '/api/v1/templates'],
  ['PATCH', '/api/v1/templates/{id}', (c) => `/api/v1/templates/${c.templateId}`],
  ['POST', '/api/v1/studies', () => '/api/v1/studies'],
  ['POST', '/api/v1/proposals', () => '/api/v1/proposals'],
  ['POST', '/api/v1/proposals/{id}/reject', (c) => `/api/v1/proposals/${c.pendingId}/reject`],
];
/** JSON nested `levels` deep: objects `{"a":{"a":…1}}` or arrays `[[…]]`. */
const nested = (levels: number, kind: 'objects' | 'arrays') =>
  kind === 'objects' ? `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`;
const depthCases: Case[] = BODY_ROUTES.flatMap(([method, openApiPath, path]) =>
  ([10_000, 100_000] as const).flatMap((levels) =>
    (['objects', 'arrays'] as const).map((kind): Case => [
      `${method} ${openApiPath} with a body of ${kind} nested ${levels.toLocaleString('en')} deep`,
      (c) => ({ method, path: path(c), opts: { rawBody: nested(levels, kind) } }),
      422,
      'VALIDATION_ERROR',
      'body',
    ]),
  ),
);
const manyKeys = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, { from: i, to: i + 1 }]));

const cases: Case[] = [
  // Repo URLs (docs/api.md)
  ['GitLab URL', postRepo({ repo_url: 'https://gitlab.com/acme/cfg' }), 400, 'UNSUPPORTED_PROVIDER'],
  ['Bitbucket URL', postRepo({ repo_url: 'https://bitbucket.org/acme/cfg.git' }), 400, 'UNSUPPORTED_PROVIDER'],
  ['scp-style SSH URL', postRepo({ repo_url: 'git@github.com:acme/cfg.git' }), 400, 'UNSUPPORTED_PROVIDER'],
  ['ssh:// URL', postRepo({ repo_url: 'ssh://git@github.com/acme/cfg.git' }), 400, 'UNSUPPORTED_PROVIDER'],
  ['plain http to github.com', postRepo({ repo_url: 'http://github.com/acme/cfg' }), 400, 'UNSUPPORTED_PROVIDER'],
  [
    'Enterprise host not allow-listed',
    postRepo({ repo_url: 'https://git.evil.example/acme/cfg' }),
    400,
    'UNSUPPORTED_PROVIDER',
  ],
  [
    'path deeper than owner/repo',
    postRepo({ repo_url: 'https://github.com/acme/cfg/tree/main' }),
    400,
    'UNSUPPORTED_PROVIDER',
  ],
  [
    'URL with user:password',
    postRepo({ repo_url: 'https://bot:hunter2@github.com/acme/cfg' }),
    422,
    'VALIDATION_ERROR',
    'repo_url',
  ],
  [
    'URL with a token as user',
    postRepo({ repo_url: `https://ghp_${'x'.repeat(36)}@github.com/acme/cfg` }),
    422,
    'VALIDATION_ERROR',
    'repo_url',
  ],
  [
    'URL with a query',
    postRepo({ repo_url: 'https://github.com/acme/cfg?ref=main' }),
    422,
    'VALIDATION_ERROR',
    'repo_url',
  ],
  [
    'URL with a fragment',
    postRepo({ repo_url: 'https://github.com/acme/cfg#readme' }),
    422,
    'VALIDATION_ERROR',
    'repo_url',
  ],
  ['not a URL', postRepo({ repo_url: 'github.com/acme/cfg' }), 422, 'VALIDATION_ERROR', 'repo_url'],
  ['repo_url missing', postRepo({ repo_url: undefined }), 422, 'VALIDATION_ERROR', 'repo_url'],
  // Gitea/Forgejo repos: a token file only, no GitHub-built commits
  [
    'Gitea host over plain http when listed for https',
    postRepo({ repo_url: 'http://git.example.com/acme/cfg' }),
    400,
    'UNSUPPORTED_PROVIDER',
  ],
  [
    'Gitea repo with a GitHub App',
    postRepo({
      repo_url: 'https://git.example.com/acme/cfg',
      auth_ref: undefined,
      app: { app_id: 1, private_key_ref: 'gh_token' },
    }),
    422,
    'VALIDATION_ERROR',
    'app',
  ],
  [
    'Gitea repo with verified commits',
    postRepo({ repo_url: 'https://git.example.com/acme/cfg', pr_options: { verified_commits: true } }),
    422,
    'VALIDATION_ERROR',
    'pr_options.verified_commits',
  ],
  [
    'PATCH of a Gitea repo to a GitHub App',
    (c) => ({
      method: 'PATCH',
      path: `/api/v1/config-repos/${c.giteaRepoId}`,
      opts: { body: { app: { app_id: 1, private_key_ref: 'gh_token' } } },
    }),
    422,
    'VALIDATION_ERROR',
    'app',
  ],
  [
    'PATCH of a Gitea repo to verified commits',
    (c) => ({
      method: 'PATCH',
      path: `/api/v1/config-repos/${c.giteaRepoId}`,
      opts: { body: { pr_options: { verified_commits: true } } },
    }),
    422,
    'VALIDATION_ERROR',
    'pr_options.verified_commits',
  ],
  [
    'Gitea repo merging when green',
    postRepo({ repo_url: 'https://git.example.com/acme/cfg', pr_options: { merge: { when: 'checks_pass' } } }),
    422,
    'VALIDATION_ERROR',
    'pr_options.merge',
  ],
  [
    'merge with an unknown method',
    postRepo({ pr_options: { merge: { when: 'checks_pass', method: 'fast-forward' } } }),
    422,
    'VALIDATION_ERROR',
    'pr_options.merge.method',
  ],
  [
    'merge when something other than checks pass',
    postRepo({ pr_options: { merge: { when: 'approved' } } }),
    422,
    'VALIDATION_ERROR',
    'pr_options.merge.when',
  ],
  [
    'supersede that is not a boolean',
    postRepo({ pr_options: { supersede: 'yes' } }),
    422,
    'VALIDATION_ERROR',
    'pr_options.supersede',
  ],
  // Fields and names
  ['provider is never accepted', postRepo({ provider: 'github' }), 422, 'VALIDATION_ERROR', 'provider'],
  ['unknown field', postRepo({ owner: 'acme' }), 422, 'VALIDATION_ERROR', 'owner'],
  ['name with capitals', postRepo({ name: 'Search-Config' }), 422, 'VALIDATION_ERROR', 'name'],
  ['name starting with a dash', postRepo({ name: '-cfg' }), 422, 'VALIDATION_ERROR', 'name'],
  ['name of 129 characters', postRepo({ name: 'a'.repeat(129) }), 422, 'VALIDATION_ERROR', 'name'],
  ['name of the wrong type', postRepo({ name: 42 }), 422, 'VALIDATION_ERROR', 'name'],
  ['name already taken', postRepo({ name: 'repo-seed' }), 409, 'CONFIG_REPO_NAME_TAKEN'],
  ['branch with ..', postRepo({ default_branch: 'main..evil' }), 422, 'VALIDATION_ERROR', 'default_branch'],
  ['branch starting with -', postRepo({ pr_base_branch: '-f' }), 422, 'VALIDATION_ERROR', 'pr_base_branch'],
  // auth_ref: traversal, missing, directory, symlinks escaping the secrets dir (docs/architecture.md "Security rules")
  ['auth_ref with ../', postRepo({ auth_ref: '../api_token' }), 422, 'VALIDATION_ERROR', 'auth_ref'],
  ['auth_ref absolute path', postRepo({ auth_ref: '/etc/passwd' }), 422, 'VALIDATION_ERROR', 'auth_ref'],
  ['auth_ref file missing', postRepo({ auth_ref: 'no_such_token' }), 400, 'AUTH_REF_NOT_FOUND'],
  ['auth_ref is a directory', postRepo({ auth_ref: 'a_directory' }), 400, 'AUTH_REF_NOT_FOUND'],
  ['auth_ref symlink escaping to a file', postRepo({ auth_ref: 'escaping_file' }), 400, 'AUTH_REF_NOT_FOUND'],
  ['auth_ref symlink escaping to a directory', postRepo({ auth_ref: 'escaping_dir' }), 400, 'AUTH_REF_NOT_FOUND'],
  [
    'webhook_secret_ref with a slash',
    postRepo({ webhook_secret_ref: 'a/b' }),
    422,
    'VALIDATION_ERROR',
    'webhook_secret_ref',
  ],
  // Bodies
  [
    'body is an array',
    () => ({ method: 'POST', path: '/api/v1/config-repos', opts: { rawBody: '[1,2]' } }),
    422,
    'VALIDATION_ERROR',
    'body',
  ],
  [
    'body is not JSON',
    () => ({ method: 'POST', path: '/api/v1/config-repos', opts: { rawBody: '{"name": ' } }),
    422,
    'VALIDATION_ERROR',
    'body',
  ],
  [
    'body sent as text/plain',
    () => ({
      method: 'POST',
      path: '/api/v1/config-repos',
      opts: { rawBody: JSON.stringify(repoBody({})), contentType: 'text/plain' },
    }),
    422,
    'VALIDATION_ERROR',
    'body',
  ],
  [
    'body over 1 MiB',
    () => ({
      method: 'POST',
      path: '/api/v1/config-repos',
      opts: { body: repoBody({ repo_url: 'x'.repeat(1024 * 1024 + 10) }) },
    }),
    413,
    'PAYLOAD_TOO_LARGE',
  ],
  // PATCH / DELETE / GET config repos
  [
    'PATCH of name is not allowed',
    (c) => ({ method: 'PATCH', path: `/api/v1/config-repos/${c.repoId}`, opts: { body: { name: 'renamed' } } }),
    422,
    'VALIDATION_ERROR',
    'name',
  ],
  [
    'PATCH of repo_url is not allowed',
    (c) => ({
      method: 'PATCH',
      path: `/api/v1/config-repos/${c.repoId}`,
      opts: { body: { repo_url: 'https://github.com/a/b' } },
    }),
    422,
    'VALIDATION_ERROR',
    'repo_url',
  ],
  [
    'PATCH with nothing to change',
    (c) => ({ method: 'PATCH', path: `/api/v1/config-repos/${c.repoId}`, opts: { body: {} } }),
    422,
    'VALIDATION_ERROR',
    'body',
  ],
  [
    'PATCH auth_ref to a directory',
    (c) => ({ method: 'PATCH', path: `/api/v1/config-repos/${c.repoId}`, opts: { body: { auth_ref: 'a_directory' } } }),
    400,
    'AUTH_REF_NOT_FOUND',
  ],
  [
    'PATCH of an unknown repo',
    () => ({ method: 'PATCH', path: `/api/v1/config-repos/${MISSING}`, opts: { body: { default_branch: 'x' } } }),
    404,
    'CONFIG_REPO_NOT_FOUND',
  ],
  ['GET with a non-UUID id', get(() => '/api/v1/config-repos/..%2F..%2Fetc'), 422, 'VALIDATION_ERROR', 'id'],
  ['GET of an unknown repo', get(() => `/api/v1/config-repos/${MISSING}`), 404, 'CONFIG_REPO_NOT_FOUND'],
  [
    'DELETE of an unknown repo',
    () => ({ method: 'DELETE', path: `/api/v1/config-repos/${MISSING}` }),
    404,
    'CONFIG_REPO_NOT_FOUND',
  ],
  [
    'DELETE of a repo in use',
    (c) => ({ method: 'DELETE', path: `/api/v1/config-repos/${c.repoId}` }),
    409,
    'CONFIG_REPO_IN_USE',
  ],
  // Clusters: config_path per docs/architecture.md "Security rules"
  ['config_path with ..', postCluster({ config_path: 'clusters/../../etc' }), 422, 'VALIDATION_ERROR', 'config_path'],
  ['config_path absolute', postCluster({ config_path: '/etc/relyloop' }), 422, 'VALIDATION_ERROR', 'config_path'],
  ['config_path with an empty segment', postCluster({ config_path: 'a//b' }), 422, 'VALIDATION_ERROR', 'config_path'],
  ['config_path into .git', postCluster({ config_path: 'a/.git/hooks' }), 422, 'VALIDATION_ERROR', 'config_path'],
  [
    'config_path with a shell character',
    postCluster({ config_path: 'a;rm -rf' }),
    422,
    'VALIDATION_ERROR',
    'config_path',
  ],
  [
    'config_path with a trailing slash',
    postCluster({ config_path: 'clusters/' }),
    422,
    'VALIDATION_ERROR',
    'config_path',
  ],
  ['cluster with an unknown config repo', postCluster({ config_repo_id: MISSING }), 404, 'CONFIG_REPO_NOT_FOUND'],
  ['cluster with an empty name', postCluster({ name: '' }), 422, 'VALIDATION_ERROR', 'name'],
  [
    'PATCH cluster config_path ..',
    (c) => ({ method: 'PATCH', path: `/api/v1/clusters/${c.clusterId}`, opts: { body: { config_path: '..' } } }),
    422,
    'VALIDATION_ERROR',
    'config_path',
  ],
  [
    'PATCH cluster to an unknown repo',
    (c) => ({ method: 'PATCH', path: `/api/v1/clusters/${c.clusterId}`, opts: { body: { config_repo_id: MISSING } } }),
    404,
    'CONFIG_REPO_NOT_FOUND',
  ],
  [
    'PATCH of an unknown cluster',
    () => ({ method: 'PATCH', path: `/api/v1/clusters/${MISSING}`, opts: { body: { config_path: 'a' } } }),
    404,
    'CLUSTER_NOT_FOUND',
  ],
  [
    'PATCH cluster name is not allowed',
    (c) => ({ method: 'PATCH', path: `/api/v1/clusters/${c.clusterId}`, opts: { body: { name: 'x' } } }),
    422,
    'VALIDATION_ERROR',
    'name',
  ],
  // Templates: names per docs/architecture.md "Security rules"
  ['template name ..', postTemplate({ name: '..' }), 422, 'VALIDATION_ERROR', 'name'],
  ['template name with a slash', postTemplate({ name: 'a/b' }), 422, 'VALIDATION_ERROR', 'name'],
  ['template name with a space', postTemplate({ name: 'a b' }), 422, 'VALIDATION_ERROR', 'name'],
  [
    'declared_params with __proto__',
    postTemplate({ declared_params: ['ok', '__proto__'] }),
    422,
    'VALIDATION_ERROR',
    'declared_params.1',
  ],
  [
    'declared_params repeated',
    postTemplate({ declared_params: ['a', 'a'] }),
    422,
    'VALIDATION_ERROR',
    'declared_params',
  ],
  ['declared_params not a list', postTemplate({ declared_params: 'a,b' }), 422, 'VALIDATION_ERROR', 'declared_params'],
  ['template on an unknown cluster', postTemplate({ cluster_id: MISSING }), 404, 'CLUSTER_NOT_FOUND'],
  // PATCH /templates/{id} validates like create
  ['template patch with nothing in it', patchTemplate({}), 422, 'VALIDATION_ERROR', 'body'],
  ['template patch renaming to ..', patchTemplate({ name: '..' }), 422, 'VALIDATION_ERROR', 'name'],
  [
    'template patch repeating a param',
    patchTemplate({ declared_params: ['a', 'a'] }),
    422,
    'VALIDATION_ERROR',
    'declared_params',
  ],
  [
    'template patch with __proto__',
    patchTemplate({ declared_params: ['__proto__'] }),
    422,
    'VALIDATION_ERROR',
    'declared_params.0',
  ],
  [
    'template patch moving it to another cluster',
    patchTemplate({ cluster_id: MISSING }),
    422,
    'VALIDATION_ERROR',
    'cluster_id',
  ],
  [
    'template name another template of the cluster has',
    postTemplate({ name: 'products-seed' }),
    409,
    'TEMPLATE_NAME_TAKEN',
  ],
  [
    'template patch to the name of another template of the cluster',
    (c) => patchTemplate({ name: c.secondTemplateName })(c),
    409,
    'TEMPLATE_NAME_TAKEN',
  ],
  [
    'template patch of an unknown template',
    (c) => ({ ...patchTemplate({ declared_params: ['a'] })(c), path: `/api/v1/templates/${MISSING}` }),
    404,
    'TEMPLATE_NOT_FOUND',
  ],
  ['GET of an unknown template', get(() => `/api/v1/templates/${MISSING}`), 404, 'TEMPLATE_NOT_FOUND'],
  // Studies
  [
    'six suggested follow-ups',
    postStudy(() => ({ suggested_followups: ['1', '2', '3', '4', '5', '6'] })),
    422,
    'VALIDATION_ERROR',
    'suggested_followups',
  ],
  [
    'study template of another cluster',
    postStudy((c) => ({ template_id: c.otherTemplateId })),
    422,
    'VALIDATION_ERROR',
    'template_id',
  ],
  [
    'importance that is not a number',
    postStudy(() => ({ parameter_importance: { a: 'high' } })),
    422,
    'VALIDATION_ERROR',
    'parameter_importance.a',
  ],
  ['metric with spaces', postStudy(() => ({ metric: 'ndcg at 10' })), 422, 'VALIDATION_ERROR', 'metric'],
  ['GET of an unknown study', get(() => `/api/v1/studies/${MISSING}`), 404, 'STUDY_NOT_FOUND'],
  // Proposals: config_diff (docs/architecture.md "Security rules") and references
  [
    'config_diff with 201 keys',
    postProposal(() => ({ config_diff: manyKeys })),
    422,
    'VALIDATION_ERROR',
    'config_diff',
  ],
  [
    'config_diff key __proto__',
    rawProposal('{"__proto__":{"from":1,"to":2}}'),
    422,
    'VALIDATION_ERROR',
    'config_diff.__proto__',
  ],
  [
    'config_diff key constructor',
    rawProposal('{"constructor":{"from":1,"to":2}}'),
    422,
    'VALIDATION_ERROR',
    'config_diff.constructor',
  ],
  [
    'config_diff nested __proto__ in an entry',
    rawProposal('{"k1":{"from":1,"to":2,"__proto__":{"polluted":true}}}'),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.__proto__',
  ],
  [
    'config_diff entry without to',
    postProposal(() => ({ config_diff: { k1: { from: 1 } } })),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.to',
  ],
  [
    'config_diff entry with an extra key',
    postProposal(() => ({ config_diff: { k1: { from: 1, to: 2, note: 'x' } } })),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.note',
  ],
  [
    'config_diff value that is an object',
    postProposal(() => ({ config_diff: { k1: { from: 1, to: { nested: 1 } } } })),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.to',
  ],
  ['config_diff empty', postProposal(() => ({ config_diff: {} })), 422, 'VALIDATION_ERROR', 'config_diff'],
  [
    'config_diff as a list',
    postProposal(() => ({ config_diff: [{ from: 1, to: 2 }] })),
    422,
    'VALIDATION_ERROR',
    'config_diff',
  ],
  [
    'metric_delta from the client',
    postProposal(() => ({ metric_delta: { ndcg: { baseline: 0, achieved: 1, delta_pct: 100 } } })),
    422,
    'VALIDATION_ERROR',
    'metric_delta',
  ],
  ['status from the client', postProposal(() => ({ status: 'pr_opened' })), 422, 'VALIDATION_ERROR', 'status'],
  [
    'cluster_id that is not a UUID',
    postProposal(() => ({ cluster_id: "1' OR '1'='1" })),
    422,
    'VALIDATION_ERROR',
    'cluster_id',
  ],
  ['proposal on an unknown cluster', postProposal(() => ({ cluster_id: MISSING })), 404, 'CLUSTER_NOT_FOUND'],
  ['proposal on an unknown template', postProposal(() => ({ template_id: MISSING })), 404, 'TEMPLATE_NOT_FOUND'],
  [
    'proposal template of another cluster',
    postProposal((c) => ({ template_id: c.otherTemplateId })),
    422,
    'VALIDATION_ERROR',
    'template_id',
  ],
  ['proposal with an unknown study', postProposal(() => ({ study_id: MISSING })), 404, 'STUDY_NOT_FOUND'],
  [
    'proposal with a study of another template',
    postProposal((c) => ({ study_id: c.otherStudyId })),
    422,
    'VALIDATION_ERROR',
    'study_id',
  ],
  [
    'reject with a reason over 500 characters',
    (c) => ({
      method: 'POST',
      path: `/api/v1/proposals/${c.pendingId}/reject`,
      opts: { body: { reason: 'r'.repeat(501) } },
    }),
    422,
    'VALIDATION_ERROR',
    'reason',
  ],
  [
    'reject with an unknown field',
    (c) => ({ method: 'POST', path: `/api/v1/proposals/${c.pendingId}/reject`, opts: { body: { why: 'x' } } }),
    422,
    'VALIDATION_ERROR',
    'why',
  ],
  [
    'reject of a rejected proposal',
    (c) => ({ method: 'POST', path: `/api/v1/proposals/${c.rejectedId}/reject`, opts: { body: { reason: 'again' } } }),
    409,
    'INVALID_STATE_TRANSITION',
  ],
  [
    'reject of an unknown proposal',
    () => ({ method: 'POST', path: `/api/v1/proposals/${MISSING}/reject` }),
    404,
    'PROPOSAL_NOT_FOUND',
  ],
  ['GET of an unknown proposal', get(() => `/api/v1/proposals/${MISSING}`), 404, 'PROPOSAL_NOT_FOUND'],
  // Text PostgreSQL cannot store (NUL, unpaired surrogates): a 422 at the edge, never a 500 from the database
  [
    'config_diff value with a NUL',
    postProposal(() => ({ config_diff: { k1: { from: 1, to: 'a\u0000b' } } })),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.to',
  ],
  ['config_diff key with a NUL', rawProposal('{"k\\u0000":{"from":1,"to":2}}'), 422, 'VALIDATION_ERROR', 'config_diff'],
  [
    'config_diff value with an unpaired surrogate',
    rawProposal('{"k1":{"from":"\\ud800","to":2}}'),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.from',
  ],
  [
    'suggested follow-up with a NUL',
    postStudy(() => ({ suggested_followups: ['fine', 'bad\u0000'] })),
    422,
    'VALIDATION_ERROR',
    'suggested_followups.1',
  ],
  [
    'importance key with a NUL',
    postStudy(() => ({ parameter_importance: { 'a\u0000': 1 } })),
    422,
    'VALIDATION_ERROR',
    'parameter_importance',
  ],
  [
    'reject reason with a NUL',
    (c) => ({
      method: 'POST',
      path: `/api/v1/proposals/${c.pendingId}/reject`,
      opts: { body: { reason: 'because\u0000' } },
    }),
    422,
    'VALIDATION_ERROR',
    'reason',
  ],
  ['cursor with a NUL', get(() => '/api/v1/proposals?cursor=%00'), 422, 'VALIDATION_ERROR', 'cursor'],
  // Nesting: bounded at 64 levels before any walk; below the bound the schema answers
  [
    'config_diff value nested 61 levels (under the bound: the schema refuses it)',
    rawProposal(`{"k1":{"from":1,"to":${nested(61, 'objects')}}}`),
    422,
    'VALIDATION_ERROR',
    'config_diff.k1.to',
  ],
  [
    'config_diff value nested 62 levels (over the bound of 64 in all)',
    rawProposal(`{"k1":{"from":1,"to":${nested(62, 'arrays')}}}`),
    422,
    'VALIDATION_ERROR',
    'body',
  ],
  ...depthCases,
  // Lists: limit, filters, cursors
  ['limit 0', get(() => '/api/v1/config-repos?limit=0'), 422, 'VALIDATION_ERROR', 'limit'],
  ['limit 201', get(() => '/api/v1/clusters?limit=201'), 422, 'VALIDATION_ERROR', 'limit'],
  ['limit not a number', get(() => '/api/v1/studies?limit=ten'), 422, 'VALIDATION_ERROR', 'limit'],
  ['limit given twice', get(() => '/api/v1/templates?limit=1&limit=2'), 422, 'VALIDATION_ERROR', 'limit'],
  ['unknown status filter', get(() => '/api/v1/proposals?status=open'), 422, 'VALIDATION_ERROR', 'status'],
  [
    'cluster_id filter not a UUID',
    get(() => '/api/v1/proposals?cluster_id=abc'),
    422,
    'VALIDATION_ERROR',
    'cluster_id',
  ],
  ['unknown query parameter', get(() => '/api/v1/proposals?sort=asc'), 422, 'VALIDATION_ERROR', 'sort'],
  ['garbage cursor', get(() => '/api/v1/config-repos?cursor=not-a-cursor'), 422, 'VALIDATION_ERROR', 'cursor'],
  [
    'tampered cursor payload',
    get((c) => `/api/v1/config-repos?cursor=${tamper(c.repoCursor, 3)}`),
    422,
    'VALIDATION_ERROR',
    'cursor',
  ],
  [
    'tampered cursor signature',
    get((c) => `/api/v1/config-repos?cursor=${tamper(c.repoCursor, c.repoCursor.length - 2)}`),
    422,
    'VALIDATION_ERROR',
    'cursor',
  ],
  [
    'forged cursor without signature',
    get(
      () =>
        `/api/v1/config-repos?cursor=${Buffer.from(JSON.stringify({ t: '2030-01-01T00:00:00.000000Z', i: MISSING })).toString('base64url')}`,
    ),
    422,
    'VALIDATION_ERROR',
    'cursor',
  ],
  [
    'cursor of another list',
    get((c) => `/api/v1/proposals?cursor=${c.clusterCursor}`),
    422,
    'VALIDATION_ERROR',
    'cursor',
  ],
];

/** Changes one character of a cursor to another base64url character. */
function tamper(cursor: string, at: number): string {
  const ch = cursor[at] === 'A' ? 'B' : 'A';
  return cursor.slice(0, at) + ch + cursor.slice(at + 1);
}

describe('bad inputs', () => {
  let h: ApiHarness;
  let ctx: Ctx;

  beforeAll(async () => {
    h = await startApiHarness({ kind: 'postgres' });
    const seed = await seedChain(h, 'seed');
    const other = await seedChain(h, 'other');
    const second = await h.request('POST', '/api/v1/templates', {
      body: { cluster_id: seed.clusterId, name: 'second-template', declared_params: ['a'] },
    });
    expect(second.status).toBe(201);
    const pending = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: seed.clusterId,
        template_id: seed.templateId,
        config_diff: { 'bm25.k1': { from: 1, to: 2 } },
      },
    });
    const rejected = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: seed.clusterId,
        template_id: seed.templateId,
        config_diff: { 'bm25.k1': { from: 1, to: 3 } },
      },
    });
    await h.request('POST', `/api/v1/proposals/${rejected.body.id}/reject`, { body: { reason: 'no' } });
    const gitea = await h.request('POST', '/api/v1/config-repos', {
      body: { name: 'gitea-seed', repo_url: 'https://git.example.com/acme/cfg', auth_ref: 'gh_token' },
    });
    expect(gitea.body).toMatchObject({ provider: 'gitea' });
    const repoPage = await h.request('GET', '/api/v1/config-repos?limit=1');
    const clusterPage = await h.request('GET', '/api/v1/clusters?limit=1');
    ctx = {
      ...seed,
      secondTemplateName: second.body.name,
      giteaRepoId: gitea.body.id,
      otherClusterId: other.clusterId,
      otherTemplateId: other.templateId,
      otherStudyId: other.studyId,
      pendingId: pending.body.id,
      rejectedId: rejected.body.id,
      repoCursor: repoPage.body.next_cursor,
      clusterCursor: clusterPage.body.next_cursor,
    };
    expect(ctx.repoCursor).toEqual(expect.any(String));
  });

  afterAll(async () => {
    await h.close();
  });

  test('the table holds at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  const table = cases.map(([name, build, status, code, field]) => ({ name, build, status, code, field }));
  test.each(table)('$name → $status $code', async ({ build, status, code, field }) => {
    const before = await h.snapshot();
    const { method, path, opts } = build(ctx);
    const res = await h.request(method, path, opts);
    expect({ status: res.status, code: res.body?.detail?.error_code, field: res.body?.detail?.field }).toEqual({
      status,
      code,
      field,
    });
    expect(res.body.detail).toEqual({
      error_code: code,
      message: expect.any(String),
      retryable: false,
      ...(field === undefined ? {} : { field }),
    });
    expect(await h.snapshot()).toBe(before);
  });

  test('the depth rows cover every route that takes a body (the OpenAPI document lists them)', async () => {
    const doc = (await h.request('GET', '/api/v1/openapi.json')).body as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const withBody = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([m]) => `${m.toUpperCase()} ${p}`),
    );
    const covered = BODY_ROUTES.map(([m, p]) => `${m} ${p}`);
    // The webhook route is tested with signed deep payloads in api-webhooks.int.test.ts.
    expect(withBody.filter((r) => !r.endsWith('/webhooks/github')).sort()).toEqual(covered.sort());
  });

  test('a template name is taken per cluster: another cluster may use it', async () => {
    const res = await h.request('POST', '/api/v1/templates', {
      body: { cluster_id: ctx.otherClusterId, name: 'second-template', declared_params: ['a'] },
    });
    expect(res.status).toBe(201);
  });

  test('__proto__ keys pollute no prototype', async () => {
    const res = await h.request('POST', '/api/v1/proposals', {
      rawBody: `{"cluster_id":"${ctx.clusterId}","template_id":"${ctx.templateId}","config_diff":{"__proto__":{"from":1,"to":2,"polluted":true}},"__proto__":{"polluted":true}}`,
    });
    expect(res.status).toBe(422);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).from).toBeUndefined();
  });
});

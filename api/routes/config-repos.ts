// /config-repos (docs/api.md). POST checks in the documented order: URL (400/422), secret file
// (400 AUTH_REF_NOT_FOUND), name (409, also when a concurrent insert wins the unique index).
import { AppError } from '../../domain/errors.js';
import { RECONCILE_WORKFLOW, reconcileRepoWorkflowId, type ReconcileInput } from '../../domain/reconcile-contracts.js';
import { hostPoliciesOf } from '../../domain/config.js';
import {
  isRepoUrlProblem,
  parseRepoUrl,
  type GitHubRepoRef,
  type Provider,
  type RepoUrlProblem,
} from '../../domain/github-url.js';
import { checkSecretFile } from '../../adapters/secrets.js';
import {
  deleteConfigRepo,
  findConfigRepo,
  insertConfigRepo,
  isConfigRepoNameTaken,
  listConfigRepos,
  providerOf,
  updateConfigRepo,
} from '../../db/config-repos.js';
import { defineRoute, type RouteSpec } from '../route.js';
import { idParams, pageOf } from '../schemas/common.js';
import {
  configRepoJson,
  createConfigRepoBody,
  listConfigReposQuery,
  patchConfigRepoBody,
  appAuthOf,
  reconcileAccepted,
  toConfigRepoJson,
  toPrOptions,
} from '../schemas/config-repos.js';
import { validationError } from '../validation.js';
import { toListResult, type RouteContext } from './context.js';
import { startOrAttach } from './start-workflow.js';

const tryRepoUrl = (input: string, ctx: RouteContext): (GitHubRepoRef & { provider: Provider }) | RepoUrlProblem =>
  parseRepoUrl(input, hostPoliciesOf(ctx.config));

const verifiedNeedsApp = () =>
  validationError(
    'pr_options.verified_commits',
    'verified commits need GitHub App auth (`app`): GitHub signs the commits an App builds through its API',
  );

/** What a Gitea/Forgejo repo cannot have: GitHub Apps, commits GitHub builds and signs, merge when green (yet). */
function assertGiteaCapable(
  provider: Provider,
  body: { app?: unknown; pr_options?: { verified_commits?: boolean; merge?: unknown } },
): void {
  if (provider !== 'gitea') return;
  if (body.app !== undefined)
    throw validationError(
      'app',
      'a Gitea repo authenticates with a token file (auth_ref); GitHub Apps exist on GitHub only',
    );
  if (body.pr_options?.verified_commits === true) {
    throw validationError(
      'pr_options.verified_commits',
      "verified commits are built and signed through GitHub's Git Data API, which Gitea does not have",
    );
  }
  if (body.pr_options?.merge !== undefined && body.pr_options.merge !== null) {
    throw validationError('pr_options.merge', 'merging when checks pass is supported on GitHub repos only');
  }
}

const notFound = (id: string) =>
  new AppError({ code: 'CONFIG_REPO_NOT_FOUND', message: `config repo ${id} not found` });

/**
 * AUTH_REF_NOT_FOUND unless `{secrets_dir}/{ref}` is a regular file inside the secrets dir
 * (docs/architecture.md "Security rules").
 */
async function assertSecretFile(ctx: RouteContext, field: string, ref: string): Promise<void> {
  const { status } = await checkSecretFile(ctx.config.secretsDir, ref);
  if (status === 'invalid_ref') throw validationError(field, `${field} is not a valid secret name`);
  // An empty file is accepted here; open_pr reports it as GITHUB_NOT_CONFIGURED (docs/api.md).
  if (status === 'ok' || status === 'empty') return;
  throw new AppError({
    code: 'AUTH_REF_NOT_FOUND',
    message: `${field} "${ref}" does not name a regular file inside the secrets directory (${status.replaceAll('_', ' ')})`,
  });
}

export function configRepoRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'config repos';
  return [
    defineRoute({
      method: 'post',
      path: '/config-repos',
      tag,
      summary: 'Register a config repo',
      body: createConfigRepoBody,
      success: { status: 201, description: 'Created', schema: configRepoJson },
      errors: ['UNSUPPORTED_PROVIDER', 'AUTH_REF_NOT_FOUND', 'CONFIG_REPO_NAME_TAKEN'],
      async handler({ body }) {
        const ref = tryRepoUrl(body.repo_url, ctx);
        if (isRepoUrlProblem(ref)) {
          if (ref.kind === 'invalid') throw validationError('repo_url', ref.message);
          throw new AppError({ code: 'UNSUPPORTED_PROVIDER', message: ref.message });
        }
        assertGiteaCapable(ref.provider, body);
        if (body.auth_ref !== undefined) await assertSecretFile(ctx, 'auth_ref', body.auth_ref);
        if (body.app !== undefined) await assertSecretFile(ctx, 'app.private_key_ref', body.app.private_key_ref);
        if (body.pr_options?.verified_commits === true && body.app === undefined) throw verifiedNeedsApp();
        if (body.webhook_secret_ref !== null)
          await assertSecretFile(ctx, 'webhook_secret_ref', body.webhook_secret_ref);
        const taken = () =>
          new AppError({
            code: 'CONFIG_REPO_NAME_TAKEN',
            message: `a config repo named "${body.name}" already exists`,
          });
        if (await isConfigRepoNameTaken(ctx.db, body.name)) throw taken();
        const row = await insertConfigRepo(ctx.db, {
          name: body.name,
          provider: ref.provider,
          repoUrl: ref.url,
          defaultBranch: body.default_branch,
          prBaseBranch: body.pr_base_branch,
          authRef: body.auth_ref ?? null,
          app: body.app === undefined ? null : appAuthOf(body.app),
          webhookSecretRef: body.webhook_secret_ref,
          ...(body.pr_options === undefined ? {} : { prOptions: toPrOptions(body.pr_options) }),
        });
        if (row === 'name_taken') throw taken();
        return toConfigRepoJson(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/config-repos',
      tag,
      summary: 'List config repos, newest first',
      query: listConfigReposQuery,
      success: { status: 200, description: 'A page of config repos', schema: pageOf(configRepoJson), list: true },
      errors: [],
      async handler({ query }) {
        const after = ctx.cursors.assertDecoded('config_repos', query.cursor);
        const page = await listConfigRepos(ctx.db, { after, limit: query.limit ?? 50 });
        return toListResult(ctx, 'config_repos', page, toConfigRepoJson);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/config-repos/:id',
      tag,
      summary: 'Get a config repo',
      params: idParams,
      success: { status: 200, description: 'The config repo', schema: configRepoJson },
      errors: ['CONFIG_REPO_NOT_FOUND'],
      async handler({ params }) {
        const row = await findConfigRepo(ctx.db, params.id);
        if (row === undefined) throw notFound(params.id);
        return toConfigRepoJson(row);
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/config-repos/:id',
      tag,
      summary: 'Rotate auth_ref, the App or webhook_secret_ref, change branches or PR options',
      params: idParams,
      body: patchConfigRepoBody,
      success: { status: 200, description: 'The updated config repo', schema: configRepoJson },
      errors: ['CONFIG_REPO_NOT_FOUND', 'AUTH_REF_NOT_FOUND'],
      async handler({ params, body }) {
        const existing = await findConfigRepo(ctx.db, params.id);
        if (existing === undefined) throw notFound(params.id);
        assertGiteaCapable(providerOf(existing), body);
        // Verified commits need a GitHub App, in the state this PATCH leaves the repo in.
        const appAfter = body.app !== undefined || (body.auth_ref === undefined && existing.appId !== null);
        const verifiedAfter = body.pr_options?.verified_commits ?? existing.prVerifiedCommits;
        if (verifiedAfter && !appAfter) throw verifiedNeedsApp();
        if (body.auth_ref !== undefined) await assertSecretFile(ctx, 'auth_ref', body.auth_ref);
        if (body.app !== undefined) await assertSecretFile(ctx, 'app.private_key_ref', body.app.private_key_ref);
        if (typeof body.webhook_secret_ref === 'string')
          await assertSecretFile(ctx, 'webhook_secret_ref', body.webhook_secret_ref);
        const row = await updateConfigRepo(ctx.db, params.id, {
          authRef: body.auth_ref,
          defaultBranch: body.default_branch,
          prBaseBranch: body.pr_base_branch,
          webhookSecretRef: body.webhook_secret_ref,
          ...(body.app === undefined ? {} : { app: appAuthOf(body.app) }),
          ...(body.pr_options === undefined ? {} : { prOptions: toPrOptions(body.pr_options) }),
        });
        if (row === undefined) throw notFound(params.id);
        return toConfigRepoJson(row);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/config-repos/:id/reconcile',
      tag,
      summary: 'Read back from GitHub every PR of this repo still recorded open and fix what a missed webhook left',
      params: idParams,
      success: {
        status: 202,
        description: 'Reconciliation started (or already running for this repo)',
        schema: reconcileAccepted,
      },
      errors: ['CONFIG_REPO_NOT_FOUND', 'QUEUE_UNAVAILABLE'],
      async handler({ params }) {
        const repo = await findConfigRepo(ctx.db, params.id);
        if (repo === undefined) throw notFound(params.id);
        const workflowId = reconcileRepoWorkflowId(repo.id);
        const input: ReconcileInput = { configRepoId: repo.id };
        const runId = await startOrAttach(ctx, RECONCILE_WORKFLOW, {
          workflowId,
          args: [input],
          staticSummary: `Reconcile PR states of ${repo.name}`,
        });
        ctx.logger.info({ configRepoId: repo.id, workflowId }, 'reconciliation requested');
        return {
          config_repo_id: repo.id,
          workflow_id: workflowId,
          run_id: runId,
          message:
            "Reconciling; its result is the workflow's result in the Temporal Web UI (or `temporal workflow result`).",
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/config-repos/:id',
      tag,
      summary: 'Delete a config repo no cluster uses',
      params: idParams,
      success: { status: 204, description: 'Deleted' },
      errors: ['CONFIG_REPO_NOT_FOUND', 'CONFIG_REPO_IN_USE'],
      async handler({ params }) {
        const outcome = await deleteConfigRepo(ctx.db, params.id);
        if (outcome === 'not_found') throw notFound(params.id);
        if (outcome === 'in_use') {
          throw new AppError({
            code: 'CONFIG_REPO_IN_USE',
            message: `config repo ${params.id} is used by a cluster; point the cluster elsewhere first`,
          });
        }
        return undefined;
      },
    }),
  ];
}

// Wire schemas of /config-repos (docs/architecture.md "Data", docs/api.md). `provider` is derived
// from the URL's host (the forge whose allow-list names it) and never accepted: sending it is an
// unknown field.
import { z } from 'zod';
import { prOptionsOf, providerOf, type ConfigRepo } from '../../db/config-repos.js';
import { PROVIDERS } from '../../domain/github-url.js';
import {
  GITHUB_LOGIN,
  GITHUB_TEAM_SLUG,
  MERGE_METHODS,
  PR_OPTION_LIMITS,
  type PrOptions,
} from '../../domain/pr-options.js';
import { branchName, id, pagingQuery, secretRef, timestamp } from './common.js';

const distinct = <T extends z.ZodType<string[]>>(list: T) =>
  list.refine(
    (xs) => new Set(xs.map((x) => x.toLowerCase())).size === xs.length,
    'entries must be distinct (GitHub compares them case-insensitively)',
  );
const login = z
  .string()
  .regex(GITHUB_LOGIN, 'a GitHub login: letters, digits and single inner hyphens, at most 39 characters');

/** Wire form of a repo's PR options (domain/pr-options.ts); every field optional, default off/empty. */
export const prOptionsJson = z
  .strictObject({
    draft: z
      .boolean()
      .default(false)
      .describe("Open PRs as drafts (on Gitea: the `WIP: ` title prefix, Gitea's own draft marker)."),
    labels: distinct(
      z
        .array(
          z
            .string()
            .min(1)
            .max(PR_OPTION_LIMITS.labelLength)
            .regex(/^[^\p{Cc},]+$/u, 'no control characters or commas'),
        )
        .max(PR_OPTION_LIMITS.labels),
    )
      .default([])
      .describe(
        'Labels added after the PR is created (GitHub creates a label it does not know; Gitea applies existing labels only, a missing one is a warning on the run).',
      ),
    reviewers: distinct(z.array(login).max(PR_OPTION_LIMITS.reviewers))
      .default([])
      .describe('Users asked for a review (collaborators of the repo).'),
    team_reviewers: distinct(z.array(z.string().regex(GITHUB_TEAM_SLUG, 'a team slug')).max(PR_OPTION_LIMITS.reviewers))
      .default([])
      .describe('Team slugs asked for a review.'),
    assignees: distinct(z.array(login).max(PR_OPTION_LIMITS.assignees))
      .default([])
      .describe('Users assigned to the PR.'),
    verified_commits: z
      .boolean()
      .default(false)
      .describe(
        "Build the commit through GitHub's Git Data API so GitHub signs it (Verified; the App is its author). Needs `app`.",
      ),
    supersede: z
      .boolean()
      .default(true)
      .describe(
        "When a proposal's PR opens, close the open PRs of the cluster's older proposals that edit the same params file, with a comment linking the new PR, and delete their branches when they hold only our commit; those proposals become `superseded`. A merged PR is never touched.",
      ),
    merge: z
      .strictObject({
        when: z.literal('checks_pass'),
        method: z.enum(MERGE_METHODS).default('merge'),
      })
      .nullable()
      .default(null)
      .describe(
        "Merge the PR once the head commit's required checks pass: GitHub's auto-merge or merge queue where the repository has them, else the service waits (durably, without the repo lock) and merges with the head commit as a guard. Null: a person merges. GitHub only.",
      ),
  })
  .describe(
    'How the PRs of this repo land. A review request or label GitHub refuses is recorded on the run as a warning; the PR still opens.',
  );

/** A repo's PR options as answers show them, every field present. */
export const prOptionsOut = z.strictObject({
  draft: z.boolean(),
  labels: z.array(z.string()),
  reviewers: z.array(z.string()),
  team_reviewers: z.array(z.string()),
  assignees: z.array(z.string()),
  verified_commits: z.boolean(),
  supersede: z.boolean(),
  merge: z.strictObject({ when: z.literal('checks_pass'), method: z.enum(MERGE_METHODS) }).nullable(),
});

export function toPrOptionsJson(o: PrOptions): z.infer<typeof prOptionsOut> {
  return {
    draft: o.draft,
    labels: o.labels,
    reviewers: o.reviewers,
    team_reviewers: o.teamReviewers,
    assignees: o.assignees,
    verified_commits: o.verifiedCommits === true,
    supersede: o.supersede === true,
    merge: o.merge ?? null,
  };
}

export function toPrOptions(json: z.output<typeof prOptionsJson>): PrOptions {
  return {
    draft: json.draft,
    labels: json.labels,
    reviewers: json.reviewers,
    teamReviewers: json.team_reviewers,
    assignees: json.assignees,
    verifiedCommits: json.verified_commits,
    supersede: json.supersede,
    merge: json.merge,
  };
}

export const configRepoName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must match ^[a-z0-9][a-z0-9-]*$');

const githubId = z.number().int().positive().max(2_147_483_647);

/** GitHub App auth instead of a token file. */
export const appAuthJson = z
  .strictObject({
    app_id: githubId.describe('The App\'s id (its settings page, "App ID").'),
    private_key_ref: secretRef.describe("Name of the file under the secrets dir holding the App's private key (PEM)."),
    installation_id: githubId
      .nullable()
      .default(null)
      .describe("The installation on this repository's owner; null: looked up from the repository."),
  })
  .describe(
    'Authenticate as a GitHub App installation: tokens are minted per activity attempt and kept in memory only.',
  );

export const createConfigRepoBody = z
  .strictObject({
    name: configRepoName,
    repo_url: z
      .string()
      .min(1)
      .max(2048)
      .describe(
        'https://github.com/{owner}/{repo}[.git] or the same on an allow-listed GitHub Enterprise host (RELYLOOP_GITHUB_HOSTS) or Gitea/Forgejo host (RELYLOOP_GITEA_HOSTS); the host decides the provider.',
      ),
    default_branch: branchName.default('main'),
    pr_base_branch: branchName.default('main'),
    auth_ref: secretRef
      .optional()
      .describe(
        "Name of the file under the secrets dir holding this repo's access token (or give `app`, GitHub only).",
      ),
    app: appAuthJson.optional().describe('GitHub only: a Gitea repo with `app` is 422.'),
    pr_options: prOptionsJson.optional(),
    webhook_secret_ref: secretRef
      .nullable()
      .default(null)
      .describe(
        'Name of the file under the secrets dir holding the GitHub webhook secret (one per line while rotating); null: webhooks for this repo are refused (403).',
      ),
  })
  .refine((b) => (b.auth_ref === undefined) !== (b.app === undefined), {
    message: 'give exactly one of auth_ref (a token file) and app (a GitHub App)',
    path: ['auth_ref'],
  });

export const patchConfigRepoBody = z
  .strictObject({
    auth_ref: secretRef.optional().describe('Switches the repo to this token file (clearing `app`).'),
    app: appAuthJson.optional().describe('Switches the repo to this GitHub App (clearing `auth_ref`).'),
    default_branch: branchName.optional(),
    pr_base_branch: branchName.optional(),
    webhook_secret_ref: secretRef.nullable().optional(),
    pr_options: prOptionsJson.optional().describe('Replaces the PR options as a whole.'),
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    'give at least one of auth_ref, app, default_branch, pr_base_branch, webhook_secret_ref, pr_options',
  )
  .refine((b) => b.auth_ref === undefined || b.app === undefined, {
    message: 'give auth_ref or app, not both',
    path: ['app'],
  });

export const listConfigReposQuery = z.strictObject({ ...pagingQuery });

export const configRepoJson = z.strictObject({
  id,
  name: z.string(),
  provider: z
    .enum(PROVIDERS)
    .describe(
      "The forge, from the repo URL's host: `github` (github.com, GitHub Enterprise) or `gitea` (Gitea, Forgejo).",
    ),
  repo_url: z.string().describe('Canonical form: {scheme}://{host}/{owner}/{repo}.'),
  default_branch: z.string(),
  pr_base_branch: z.string(),
  auth_ref: z.string().nullable(),
  app: z
    .strictObject({
      app_id: z.number().int(),
      private_key_ref: z.string(),
      installation_id: z.number().int().nullable(),
    })
    .nullable(),
  webhook_secret_ref: z.string().nullable(),
  pr_options: prOptionsOut,
  created_at: timestamp,
  updated_at: timestamp,
});

export type ConfigRepoJson = z.infer<typeof configRepoJson>;

export function toConfigRepoJson(r: ConfigRepo): ConfigRepoJson {
  return {
    id: r.id,
    name: r.name,
    provider: providerOf(r),
    repo_url: r.repoUrl,
    default_branch: r.defaultBranch,
    pr_base_branch: r.prBaseBranch,
    auth_ref: r.authRef,
    app:
      r.appId === null || r.appPrivateKeyRef === null
        ? null
        : { app_id: r.appId, private_key_ref: r.appPrivateKeyRef, installation_id: r.appInstallationId },
    webhook_secret_ref: r.webhookSecretRef,
    pr_options: toPrOptionsJson(prOptionsOf(r)),
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export const reconcileAccepted = z.strictObject({
  config_repo_id: id,
  workflow_id: z.string(),
  run_id: z.string(),
  message: z.string(),
});

export function appAuthOf(json: z.output<typeof appAuthJson>): {
  appId: number;
  privateKeyRef: string;
  installationId: number | null;
} {
  return { appId: json.app_id, privateKeyRef: json.private_key_ref, installationId: json.installation_id };
}

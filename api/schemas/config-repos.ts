// Wire schemas of /config-repos (SPEC §3, §4). `provider` is derived from the URL and never
// accepted: sending it is an unknown field.
import { z } from 'zod';
import type { ConfigRepo } from '../../db/config-repos.js';
import { branchName, id, pagingQuery, secretRef, timestamp } from './common.js';

export const configRepoName = z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9-]*$/, 'must match ^[a-z0-9][a-z0-9-]*$');

export const createConfigRepoBody = z.strictObject({
  name: configRepoName,
  repo_url: z.string().min(1).max(2048).describe('https://github.com/{owner}/{repo}[.git] or the same on an allow-listed GitHub Enterprise host.'),
  default_branch: branchName.default('main'),
  pr_base_branch: branchName.default('main'),
  auth_ref: secretRef.describe('Name of the file under the secrets dir holding this repo\'s GitHub token.'),
  webhook_secret_ref: secretRef.nullable().default(null).describe('Name of the file under the secrets dir holding the GitHub webhook secret (one per line while rotating); null: webhooks for this repo are refused (403).'),
});

export const patchConfigRepoBody = z
  .strictObject({
    auth_ref: secretRef.optional(),
    default_branch: branchName.optional(),
    pr_base_branch: branchName.optional(),
    webhook_secret_ref: secretRef.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of auth_ref, default_branch, pr_base_branch, webhook_secret_ref');

export const listConfigReposQuery = z.strictObject({ ...pagingQuery });

export const configRepoJson = z.strictObject({
  id,
  name: z.string(),
  provider: z.literal('github'),
  repo_url: z.string().describe('Canonical form: {scheme}://{host}/{owner}/{repo}.'),
  default_branch: z.string(),
  pr_base_branch: z.string(),
  auth_ref: z.string(),
  webhook_secret_ref: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export type ConfigRepoJson = z.infer<typeof configRepoJson>;

export function toConfigRepoJson(r: ConfigRepo): ConfigRepoJson {
  return {
    id: r.id,
    name: r.name,
    provider: 'github',
    repo_url: r.repoUrl,
    default_branch: r.defaultBranch,
    pr_base_branch: r.prBaseBranch,
    auth_ref: r.authRef,
    webhook_secret_ref: r.webhookSecretRef,
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

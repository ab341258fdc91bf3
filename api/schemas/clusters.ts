// Wire schemas of /clusters (docs/architecture.md "Data", docs/api.md). config_path follows
// docs/architecture.md "Security rules" (domain/paths.ts).
import { z } from 'zod';
import type { Cluster } from '../../db/clusters.js';
import { tryConfigPathProblem } from '../../domain/paths.js';
import { displayName, id, pagingQuery, timestamp } from './common.js';

const configPath = z
  .string()
  .superRefine((p, ctx) => {
    const problem = tryConfigPathProblem(p);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('Directory of the params files in the config repo: relative, no empty, . or .. segments.');

export const createClusterBody = z.strictObject({
  name: displayName(128),
  config_repo_id: id.nullable().default(null),
  config_path: configPath.nullable().default(null),
});

export const patchClusterBody = z
  .strictObject({
    config_repo_id: id.nullable().optional(),
    config_path: configPath.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give config_repo_id and/or config_path');

export const listClustersQuery = z.strictObject({ ...pagingQuery });

export const clusterJson = z.strictObject({
  id,
  name: z.string(),
  config_repo_id: id.nullable(),
  config_path: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export type ClusterJson = z.infer<typeof clusterJson>;

export function toClusterJson(c: Cluster): ClusterJson {
  return {
    id: c.id,
    name: c.name,
    config_repo_id: c.configRepoId,
    config_path: c.configPath,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

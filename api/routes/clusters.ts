// /clusters (docs/api.md): create, list, get, and PATCH of config_repo_id / config_path.
import { AppError } from '../../domain/errors.js';
import { findCluster, insertCluster, listClusters, updateCluster } from '../../db/clusters.js';
import { defineRoute, type RouteSpec } from '../route.js';
import {
  clusterJson,
  createClusterBody,
  listClustersQuery,
  patchClusterBody,
  toClusterJson,
} from '../schemas/clusters.js';
import { idParams, pageOf } from '../schemas/common.js';
import { toListResult, type RouteContext } from './context.js';

const clusterNotFound = (id: string) => new AppError({ code: 'CLUSTER_NOT_FOUND', message: `cluster ${id} not found` });
const repoNotFound = (id: string | null | undefined) =>
  new AppError({ code: 'CONFIG_REPO_NOT_FOUND', message: `config repo ${String(id)} not found` });

export function clusterRoutes(ctx: RouteContext): RouteSpec[] {
  const tag = 'clusters';
  return [
    defineRoute({
      method: 'post',
      path: '/clusters',
      tag,
      summary: 'Create a cluster',
      body: createClusterBody,
      success: { status: 201, description: 'Created', schema: clusterJson },
      errors: ['CONFIG_REPO_NOT_FOUND'],
      async handler({ body }) {
        const row = await insertCluster(ctx.db, {
          name: body.name,
          configRepoId: body.config_repo_id,
          configPath: body.config_path,
        });
        if (row === 'config_repo_not_found') throw repoNotFound(body.config_repo_id);
        return toClusterJson(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/clusters',
      tag,
      summary: 'List clusters, newest first',
      query: listClustersQuery,
      success: { status: 200, description: 'A page of clusters', schema: pageOf(clusterJson), list: true },
      errors: [],
      async handler({ query }) {
        const after = ctx.cursors.assertDecoded('clusters', query.cursor);
        const page = await listClusters(ctx.db, { after, limit: query.limit ?? 50 });
        return toListResult(ctx, 'clusters', page, toClusterJson);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/clusters/:id',
      tag,
      summary: 'Get a cluster',
      params: idParams,
      success: { status: 200, description: 'The cluster', schema: clusterJson },
      errors: ['CLUSTER_NOT_FOUND'],
      async handler({ params }) {
        const row = await findCluster(ctx.db, params.id);
        if (row === undefined) throw clusterNotFound(params.id);
        return toClusterJson(row);
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/clusters/:id',
      tag,
      summary: 'Point a cluster at a config repo and path',
      params: idParams,
      body: patchClusterBody,
      success: { status: 200, description: 'The updated cluster', schema: clusterJson },
      errors: ['CLUSTER_NOT_FOUND', 'CONFIG_REPO_NOT_FOUND'],
      async handler({ params, body }) {
        const row = await updateCluster(ctx.db, params.id, {
          configRepoId: body.config_repo_id,
          configPath: body.config_path,
        });
        if (row === 'not_found') throw clusterNotFound(params.id);
        if (row === 'config_repo_not_found') throw repoNotFound(body.config_repo_id);
        return toClusterJson(row);
      },
    }),
  ];
}

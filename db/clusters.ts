// Data access for clusters (docs/architecture.md "Data"). A config_repo_id that does not exist (or was deleted a
// moment ago) is caught by the foreign key.
import type { Cluster } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ListedPage, type PageRequest } from './paging.js';
import { isPrismaError } from './prisma-errors.js';

export type { Cluster };

export interface NewCluster {
  name: string;
  configRepoId: string | null;
  configPath: string | null;
}

export interface ClusterPatch {
  configRepoId?: string | null;
  configPath?: string | null;
}

export async function findCluster(db: Database, id: string): Promise<Cluster | undefined> {
  return (await db.prisma.cluster.findUnique({ where: { id } })) ?? undefined;
}

export async function insertCluster(db: Database, input: NewCluster): Promise<Cluster | 'config_repo_not_found'> {
  try {
    return await db.prisma.cluster.create({ data: input });
  } catch (error) {
    if (isPrismaError(error, 'P2003')) return 'config_repo_not_found';
    throw error;
  }
}

export async function updateCluster(
  db: Database,
  id: string,
  patch: ClusterPatch,
): Promise<Cluster | 'not_found' | 'config_repo_not_found'> {
  try {
    return await db.prisma.cluster.update({ where: { id }, data: patch });
  } catch (error) {
    if (isPrismaError(error, 'P2025')) return 'not_found';
    if (isPrismaError(error, 'P2003')) return 'config_repo_not_found';
    throw error;
  }
}

export async function listClusters(db: Database, page: PageRequest): Promise<ListedPage<Cluster>> {
  const keys = await listKeyset(db.sql, { table: 'clusters', filters: [], ...page });
  const rows = await db.prisma.cluster.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

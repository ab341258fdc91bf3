// Data access for config_repos (SPEC §3). A duplicate name and a delete while clusters point at
// the repo are decided by the unique index and the foreign key, so concurrent requests cannot
// slip past a pre-check.
import type { ConfigRepo } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ListedPage, type PageRequest } from './paging.js';
import { isForeignKeySqlError, isPrismaError } from './prisma-errors.js';

export type { ConfigRepo };

export interface NewConfigRepo {
  name: string;
  provider: 'github';
  repoUrl: string;
  defaultBranch: string;
  prBaseBranch: string;
  authRef: string;
  webhookSecretRef: string | null;
}

export interface ConfigRepoPatch {
  authRef?: string;
  defaultBranch?: string;
  prBaseBranch?: string;
  webhookSecretRef?: string | null;
}

export async function findConfigRepo(db: Database, id: string): Promise<ConfigRepo | undefined> {
  return (await db.prisma.configRepo.findUnique({ where: { id } })) ?? undefined;
}

export async function isConfigRepoNameTaken(db: Database, name: string): Promise<boolean> {
  return (await db.prisma.configRepo.count({ where: { name } })) > 0;
}

export async function insertConfigRepo(db: Database, input: NewConfigRepo): Promise<ConfigRepo | 'name_taken'> {
  try {
    return await db.prisma.configRepo.create({ data: input });
  } catch (error) {
    if (isPrismaError(error, 'P2002')) return 'name_taken';
    throw error;
  }
}

export async function updateConfigRepo(db: Database, id: string, patch: ConfigRepoPatch): Promise<ConfigRepo | undefined> {
  try {
    return await db.prisma.configRepo.update({ where: { id }, data: patch });
  } catch (error) {
    if (isPrismaError(error, 'P2025')) return undefined;
    throw error;
  }
}

export async function deleteConfigRepo(db: Database, id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
  // Raw SQL so the driver's SQLSTATE is seen directly on both PostgreSQL and PGlite.
  try {
    const rows = await db.sql.query('DELETE FROM config_repos WHERE id = $1::uuid RETURNING id', [id]);
    return rows.length === 1 ? 'deleted' : 'not_found';
  } catch (error) {
    // ON DELETE RESTRICT from clusters.config_repo_id: a cluster still points here.
    if (isForeignKeySqlError(error)) return 'in_use';
    throw error;
  }
}

export async function listConfigRepos(db: Database, page: PageRequest): Promise<ListedPage<ConfigRepo>> {
  const keys = await listKeyset(db.sql, { table: 'config_repos', filters: [], ...page });
  const rows = await db.prisma.configRepo.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

// Data access for query_templates (docs/architecture.md "Data").
import type { QueryTemplate } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ListedPage, type PageRequest } from './paging.js';
import { isPrismaError } from './prisma-errors.js';

export type { QueryTemplate };

export interface NewTemplate {
  clusterId: string;
  name: string;
  declaredParams: string[];
}

export async function findTemplate(db: Database, id: string): Promise<QueryTemplate | undefined> {
  return (await db.prisma.queryTemplate.findUnique({ where: { id } })) ?? undefined;
}

/**
 * Names are unique per cluster — a template's name is its params file, `{config_path}/{name}.params.json`
 * — decided by the unique index, so two concurrent requests cannot both take one.
 */
export async function insertTemplate(
  db: Database,
  input: NewTemplate,
): Promise<QueryTemplate | 'cluster_not_found' | 'name_taken'> {
  try {
    return await db.prisma.queryTemplate.create({ data: input });
  } catch (error) {
    if (isPrismaError(error, 'P2003')) return 'cluster_not_found';
    if (isPrismaError(error, 'P2002')) return 'name_taken';
    throw error;
  }
}

export async function listTemplates(
  db: Database,
  page: PageRequest & { clusterId?: string },
): Promise<ListedPage<QueryTemplate>> {
  const filters =
    page.clusterId === undefined ? [] : [{ column: 'cluster_id', value: page.clusterId, cast: 'uuid' } as const];
  const keys = await listKeyset(db.sql, { table: 'query_templates', filters, after: page.after, limit: page.limit });
  const rows = await db.prisma.queryTemplate.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

export interface TemplatePatch {
  name?: string;
  declaredParams?: string[];
}

/** Updates a template; resolves with the row before and after (for the audit log). */
export async function updateTemplate(
  db: Database,
  id: string,
  patch: TemplatePatch,
): Promise<{ before: QueryTemplate; after: QueryTemplate } | 'not_found' | 'name_taken'> {
  try {
    return await db.prisma.$transaction(async (tx) => {
      const before = await tx.queryTemplate.findUnique({ where: { id } });
      if (before === null) return 'not_found' as const;
      const after = await tx.queryTemplate.update({ where: { id }, data: patch });
      return { before, after };
    });
  } catch (error) {
    if (isPrismaError(error, 'P2002')) return 'name_taken';
    throw error;
  }
}

// Data access for studies (docs/architecture.md "Data"). The API checks the cluster and template exist and belong
// together before inserting; the foreign keys remain the last word.
import type { Study } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ListedPage, type PageRequest } from './paging.js';

export type { Study };

export interface NewStudy {
  name: string;
  clusterId: string;
  templateId: string;
  metric: string;
  baselineMetric: number | null;
  bestMetric: number | null;
  parameterImportance: Record<string, number> | null;
  suggestedFollowups: string[];
}

export async function findStudy(db: Database, id: string): Promise<Study | undefined> {
  return (await db.prisma.study.findUnique({ where: { id } })) ?? undefined;
}

export async function insertStudy(db: Database, input: NewStudy): Promise<Study> {
  const { parameterImportance, ...rest } = input;
  // Prisma needs DbNull to store SQL NULL in a Json? column; plain null means JSON null there.
  return db.prisma.study.create({
    data: { ...rest, ...(parameterImportance === null ? {} : { parameterImportance }) },
  });
}

export async function listStudies(
  db: Database,
  page: PageRequest & { clusterId?: string },
): Promise<ListedPage<Study>> {
  const filters =
    page.clusterId === undefined ? [] : [{ column: 'cluster_id', value: page.clusterId, cast: 'uuid' } as const];
  const keys = await listKeyset(db.sql, { table: 'studies', filters, after: page.after, limit: page.limit });
  const rows = await db.prisma.study.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}

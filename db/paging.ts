// Keyset paging, newest first (`created_at DESC, id DESC`, docs/api.md). The position is the stored
// created_at rendered as text by PostgreSQL with microseconds, so the comparison happens on the
// exact stored value: a JS Date (milliseconds) would skip or repeat rows that share a millisecond.
import type { SqlExecutor } from './sql.js';

export type PagedTable = 'config_repos' | 'clusters' | 'query_templates' | 'studies' | 'proposals';

export interface PagePosition {
  /** created_at as PostgreSQL printed it, UTC with microseconds, e.g. `2026-11-24T10:00:00.123456Z`. */
  createdAt: string;
  id: string;
}

/**
 * A filter: equality on a column (`cast` is the SQL type of the parameter), or on a proposal's
 * recorded failure: present or not, or starting with an error code (`CODE: detail`).
 */
export type ColumnFilter =
  | { column: 'cluster_id' | 'status' | 'pr_state'; value: string; cast: 'uuid' | 'proposal_status' | 'pr_state' }
  | { column: 'pr_open_error'; present: boolean }
  | { column: 'pr_open_error'; code: string };

function conditionOf(f: ColumnFilter, params: unknown[]): string {
  if ('cast' in f) {
    params.push(f.value);
    return `${f.column} = $${params.length}::${f.cast}`;
  }
  if ('present' in f) return `pr_open_error IS ${f.present ? 'NOT ' : ''}NULL`;
  params.push(`${f.code}: `);
  return `left(pr_open_error, length($${params.length}::text)) = $${params.length}::text`;
}

export interface KeysetQuery {
  table: PagedTable;
  filters: readonly ColumnFilter[];
  after: PagePosition | undefined;
  limit: number;
}

export interface KeysetPage {
  ids: string[];
  /** Position of the last row returned when more rows follow, else undefined. */
  next: PagePosition | undefined;
  total: number;
}

export const POSITION_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface KeyRow {
  id: string;
  ts: string;
}

export async function listKeyset(sql: SqlExecutor, q: KeysetQuery): Promise<KeysetPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const f of q.filters) where.push(conditionOf(f, params));
  const filterSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const countRows = await sql.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM ${q.table} ${filterSql}`,
    params,
  );
  const pageParams = [...params];
  if (q.after !== undefined) {
    pageParams.push(q.after.createdAt, q.after.id);
    where.push(`(created_at, id) < ($${pageParams.length - 1}::timestamptz, $${pageParams.length}::uuid)`);
  }
  pageParams.push(q.limit + 1);
  const rows = await sql.query<KeyRow>(
    `SELECT id::text AS id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
       FROM ${q.table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC
      LIMIT $${pageParams.length}`,
    pageParams,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const hasMore = rows.length > q.limit;
  return {
    ids: page.map((r) => r.id),
    next: hasMore && last !== undefined ? { createdAt: last.ts, id: last.id } : undefined,
    total: countRows[0]?.total ?? 0,
  };
}

/** Puts rows loaded by id back into the page's order (rows deleted meanwhile drop out). */
export function orderByIds<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((i) => byId.get(i) ?? []);
}

/** A page of records plus what the API needs to continue and count. */
export interface ListedPage<T> {
  rows: T[];
  next: PagePosition | undefined;
  total: number;
}

export interface PageRequest {
  after: PagePosition | undefined;
  limit: number;
}

// Two views of the same schema, normalised for comparison: what prisma/schema.prisma declares
// (through Prisma's DMMF) and what the migrations actually built (read from pg_catalog). The
// drift test asserts they are equal, standing in for `prisma migrate diff`, whose schema engine
// cannot be downloaded here.
import { readFile } from 'node:fs/promises';
import internals from '@prisma/internals';
import type { SqlSession } from '../../db/sql.js';

export interface TableShape {
  columns: Record<string, { type: string; notNull: boolean; default: string | null }>;
  primaryKey: string[];
  uniques: string[][];
  indexes: string[][];
  foreignKeys: { columns: string[]; references: string; referencedColumns: string[]; onDelete: string }[];
}
export interface SchemaShape {
  tables: Record<string, TableShape>;
  enums: Record<string, string[]>;
}

const sortNested = (xs: string[][]) =>
  xs
    .map((x) => x.join(','))
    .sort()
    .map((x) => x.split(','));

function prismaType(
  field: { type: string; nativeType?: unknown; isList: boolean },
  enums: Map<string, string>,
): string {
  const [native, args] = (field.nativeType as [string, string[]] | null | undefined) ?? [undefined, []];
  const base =
    enums.get(field.type) ??
    (() => {
      switch (native) {
        case 'Uuid':
          return 'uuid';
        case 'VarChar':
          return `character varying(${args[0]})`;
        case 'Timestamptz':
          return `timestamp(${args[0] ?? 3}) with time zone`;
        case undefined:
          break;
        default:
          return native.toLowerCase();
      }
      const defaults: Record<string, string> = {
        String: 'text',
        Int: 'integer',
        BigInt: 'bigint',
        Float: 'double precision',
        Boolean: 'boolean',
        Json: 'jsonb',
        DateTime: 'timestamp(3) without time zone',
        Decimal: 'numeric(65,30)',
        Bytes: 'bytea',
      };
      return defaults[field.type] ?? `?${field.type}`;
    })();
  return field.isList ? `${base}[]` : base;
}

function prismaDefault(d: unknown): string | null {
  if (d === undefined || d === null) return null;
  if (typeof d === 'object' && 'name' in d) {
    const fn = d as { name: string; args: unknown[] };
    if (fn.name === 'dbgenerated') return String(fn.args[0]);
    if (fn.name === 'now') return 'CURRENT_TIMESTAMP';
    return `${fn.name}()`;
  }
  // A scalar list's `@default([])`, as PostgreSQL shows it (Prisma creates `text[]` lists).
  if (Array.isArray(d) && d.length === 0) return 'ARRAY[]::text[]';
  return String(d);
}

export async function shapeFromPrismaSchema(schemaFile: string): Promise<SchemaShape> {
  const dmmf = await internals.getDMMF({ datamodel: await readFile(schemaFile, 'utf8') });
  const enums = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const models = new Map(dmmf.datamodel.models.map((m) => [m.name, m]));
  const tableOf = (model: string) => models.get(model)?.dbName ?? model;
  const shape: SchemaShape = { tables: {}, enums: {} };
  for (const e of dmmf.datamodel.enums) shape.enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);
  for (const model of dmmf.datamodel.models) {
    const col = new Map(model.fields.map((f) => [f.name, f.dbName ?? f.name]));
    const t: TableShape = { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [] };
    for (const f of model.fields) {
      if (f.kind === 'object') {
        if (f.relationFromFields?.length) {
          const target = models.get(f.type);
          const targetCol = new Map(target?.fields.map((x) => [x.name, x.dbName ?? x.name]));
          t.foreignKeys.push({
            columns: f.relationFromFields.map((n) => col.get(n) ?? n),
            references: tableOf(f.type),
            referencedColumns: (f.relationToFields ?? []).map((n) => targetCol.get(n) ?? n),
            onDelete: f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull'),
          });
        }
        continue;
      }
      t.columns[col.get(f.name) ?? f.name] = {
        type: prismaType(f, enums),
        notNull: f.isRequired && !f.isList,
        default: prismaDefault(f.default),
      };
    }
    for (const idx of dmmf.datamodel.indexes.filter((i) => i.model === model.name)) {
      const cols = idx.fields.map((x) => `${col.get(x.name) ?? x.name}${x.sortOrder === 'desc' ? ' DESC' : ''}`);
      if (idx.type === 'id') t.primaryKey = cols;
      else if (idx.type === 'unique') t.uniques.push(cols);
      else if (idx.type === 'normal') t.indexes.push(cols);
    }
    t.uniques = sortNested(t.uniques);
    t.indexes = sortNested(t.indexes);
    t.foreignKeys.sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
    shape.tables[model.dbName ?? model.name] = t;
  }
  return shape;
}

const ON_DELETE: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

/** Strips the casts PostgreSQL adds to stored defaults: `'main'::character varying` → `main`. */
function normaliseDefault(expr: string | null): string | null {
  if (expr === null) return null;
  const m = /^'(.*)'::[\w\s."]+(\(\d+\))?$/.exec(expr);
  return m ? (m[1] ?? '') : expr;
}

export async function shapeFromDatabase(sql: SqlSession): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {}, enums: {} };
  const table = (name: string) =>
    (shape.tables[name] ??= { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [] });
  const columns = await sql.query<{
    table: string;
    column: string;
    type: string;
    not_null: boolean;
    default: string | null;
  }>(`
    SELECT c.relname::text AS table, a.attname::text AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> '_prisma_migrations'`);
  for (const c of columns)
    table(c.table).columns[c.column] = { type: c.type, notNull: c.not_null, default: normaliseDefault(c.default) };
  const indexes = await sql.query<{ table: string; unique: boolean; primary: boolean; columns: string[] }>(`
    SELECT t.relname::text AS table, ix.indisunique AS unique, ix.indisprimary AS primary,
           array(SELECT a.attname || CASE WHEN (ix.indoption[k.i - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                 FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, i)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.i)::text[] AS columns
    FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`);
  for (const i of indexes) {
    const t = table(i.table);
    if (i.primary) t.primaryKey = i.columns;
    else if (i.unique) t.uniques.push(i.columns);
    else t.indexes.push(i.columns);
  }
  const fks = await sql.query<{
    table: string;
    references: string;
    on_delete: string;
    columns: string[];
    referenced_columns: string[];
  }>(`
    SELECT t.relname::text AS table, rt.relname::text AS references, c.confdeltype::text AS on_delete,
           array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS columns,
           array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS referenced_columns
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class rt ON rt.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE c.contype = 'f' AND n.nspname = 'public'`);
  for (const f of fks) {
    table(f.table).foreignKeys.push({
      columns: f.columns,
      references: f.references,
      referencedColumns: f.referenced_columns,
      onDelete: ON_DELETE[f.on_delete] ?? f.on_delete,
    });
  }
  for (const t of Object.values(shape.tables)) {
    t.uniques = sortNested(t.uniques);
    t.indexes = sortNested(t.indexes);
    t.foreignKeys.sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
  }
  const enums = await sql.query<{ name: string; values: string[] }>(`
    SELECT t.typname::text AS name, array(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS values
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname = 'public'`);
  for (const e of enums) shape.enums[e.name] = e.values;
  return shape;
}

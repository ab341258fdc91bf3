// Prisma's known-request error codes the data-access layer turns into outcomes: races are decided
// by constraints, not by read-then-write (a unique name, a foreign key in use or gone).
import { Prisma } from '../generated/prisma/client.js';

/** P2002 unique violation, P2003 foreign-key violation, P2025 record to update not found. */
export type PrismaErrorCode = 'P2002' | 'P2003' | 'P2025';

export function isPrismaError(error: unknown, code: PrismaErrorCode): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}

/**
 * A foreign-key violation from raw SQL: 23503, or 23001 (restrict_violation), which PostgreSQL
 * raises for ON DELETE RESTRICT where Prisma's PGlite adapter does not map it to P2003.
 */
export function isForeignKeySqlError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23503' || code === '23001';
}

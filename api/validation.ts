// Edge validation: a zod failure becomes one 422 VALIDATION_ERROR naming the field (docs/api.md).
// The field is the issue's path (`config_diff.k1.to`), an unknown key's own name, or the
// request part (`body`, `query`) when the whole part is wrong.
import type { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { isStorableText } from '../domain/storable-text.js';

export type RequestPart = 'body' | 'query' | 'params';

function fieldOf(issue: z.core.$ZodIssue, part: RequestPart): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return path.length > 0 ? path.join('.') : part;
}

function messageOf(issue: z.core.$ZodIssue, field: string): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return `${field}: ${issue.message}`;
}

/**
 * How deep a request's JSON may nest. Our bodies nest 3 levels and GitHub's webhook payloads fewer
 * than 10; the bound keeps every later walk — zod's, JSON.stringify's for jsonb, the logger's —
 * far from the stack limit that a body nested 10,000 levels deep would reach.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws a 422 when `input` nests deeper than MAX_JSON_DEPTH, or for the first string (value or
 * key) PostgreSQL cannot store — refused at the edge instead of failing as a 500
 * (docs/architecture.md "Security rules").
 */
export function assertStorableInput(input: unknown, part: RequestPart): void {
  walkBounded(input, part, true);
}

/** Throws a 422 when `input` nests deeper than MAX_JSON_DEPTH (a webhook payload: its text is GitHub's). */
export function assertJsonDepth(input: unknown, part: RequestPart): void {
  walkBounded(input, part, false);
}

/** The walk of both: iterative, and it stops at the bound, so no input can exhaust the stack here. */
function walkBounded(input: unknown, part: RequestPart, checkText: boolean): void {
  const pending: { value: unknown; path: string[] }[] = [{ value: input, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (checkText && !isStorableText(value)) throw unstorable(path, part);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_JSON_DEPTH) {
      throw new AppError({
        code: 'VALIDATION_ERROR',
        field: part,
        message: `${part}: nested deeper than ${MAX_JSON_DEPTH} levels (the limit)`,
      });
    }
    const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value);
    // Reversed onto the stack, so the first problem in document order is the one reported.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as readonly [string, unknown];
      if (checkText && !Array.isArray(value) && !isStorableText(key)) throw unstorable(path, part, 'a key');
      pending.push({ value: item, path: [...path, key] });
    }
  }
}

function unstorable(path: string[], part: RequestPart, what = 'the value'): AppError {
  const field = path.length > 0 ? path.join('.') : part;
  return new AppError({
    code: 'VALIDATION_ERROR',
    field,
    message: `${field}: ${what} contains a NUL character or an unpaired surrogate, which cannot be stored`,
  });
}

/** Parses `input` or throws the 422 for its first problem. */
export function assertValid<S extends z.ZodType>(schema: S, input: unknown, part: RequestPart): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new AppError({ code: 'VALIDATION_ERROR', message: `invalid ${part}`, field: part });
  const field = fieldOf(issue, part);
  throw new AppError({ code: 'VALIDATION_ERROR', message: messageOf(issue, field), field });
}

/** A 422 for a field that passed the schema but fails a rule checked later (URL, path, study match). */
export function validationError(field: string, message: string): AppError {
  return new AppError({ code: 'VALIDATION_ERROR', message, field });
}

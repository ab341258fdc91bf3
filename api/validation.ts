// Edge validation: a zod failure becomes one 422 VALIDATION_ERROR naming the field (SPEC §4).
// The field is the issue's path (`config_diff.k1.to`), an unknown key's own name, or the
// request part (`body`, `query`) when the whole part is wrong.
import type { z } from 'zod';
import { AppError } from '../domain/errors.js';

export type RequestPart = 'body' | 'query' | 'params';

function fieldOf(issue: z.core.$ZodIssue, part: RequestPart): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return path.length > 0 ? path.join('.') : part;
}

function messageOf(issue: z.core.$ZodIssue, field: string): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return `${field}: ${issue.message}`;
}

// PostgreSQL stores neither U+0000 (text and jsonb refuse it: 22021, 22P05) nor a lone UTF-16
// surrogate (jsonb refuses the \ud800 escape JSON.stringify writes; text would get U+FFFD).
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Throws a 422 naming the first string (value or key) of `input` PostgreSQL cannot store, so such
 * input is refused at the edge instead of failing in the database as a 500 (SPEC §6).
 */
export function assertStorableText(input: unknown, part: RequestPart): void {
  const walk = (value: unknown, path: string[]): void => {
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) throw unstorable(path, part);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, [...path, String(i)]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (UNSTORABLE.test(key)) throw unstorable(path, part, 'a key');
        walk(item, [...path, key]);
      }
    }
  };
  walk(input, []);
}

function unstorable(path: string[], part: RequestPart, what = 'the value'): AppError {
  const field = path.length > 0 ? path.join('.') : part;
  return new AppError({ code: 'VALIDATION_ERROR', field, message: `${field}: ${what} contains a NUL character or an unpaired surrogate, which cannot be stored` });
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

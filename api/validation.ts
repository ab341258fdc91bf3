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

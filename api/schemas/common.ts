// Building blocks shared by the request and response schemas. Every string is bounded and every
// object strict (docs/architecture.md "Security rules": every input is validated; unknown fields
// are a 422 naming the field).
import { z } from 'zod';
import { ENDPOINT_ERRORS } from '../../domain/errors.js';

/** Ids are UUIDs; any 8-4-4-4-12 hex form is accepted (a well-formed unknown id is a 404). */
export const id = z.guid();

/** No C0 control characters or DEL (a plain pattern: flags would not survive into OpenAPI). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL_CHARS = /^[^\x00-\x1f\x7f]+$/;

/** Human-readable names (clusters, studies). */
export const displayName = (max: number) =>
  z.string().min(1).max(max).regex(NO_CONTROL_CHARS, 'must not contain control characters');

/** A secret file name under the secrets dir (docs/architecture.md "Data" auth_ref). */
export const secretRef = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'may contain only letters, digits, _ and -');

/**
 * Keys that would reach an object's prototype machinery if some consumer assigned them with
 * `obj[key] = …`. They are refused wherever the client chooses object keys (config_diff,
 * parameter_importance, declared_params), so nothing downstream has to be careful.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Wraps an object schema so reserved keys are a 422 naming them. The check runs on the parsed
 * JSON itself, before zod copies keys into a new object (which silently drops `__proto__`).
 */
export function refusingReservedKeys<T extends z.ZodType>(schema: T) {
  // A preprocess (not a pipe from z.unknown()) keeps the object schema visible to the OpenAPI
  // generator; an issue added here stops the parse before `schema` runs.
  return z.preprocess((value, ctx) => {
    if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_KEYS.has(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is a reserved name (__proto__, constructor, prototype)',
            input: value,
          });
      }
    }
    return value;
  }, schema);
}

/**
 * A parameter name: one flat key of the params file, e.g. `field_boosts.title`
 * (docs/architecture.md "The open-PR workflow" step 8).
 */
export const paramName = z
  .string()
  .min(1)
  .max(256)
  .regex(NO_CONTROL_CHARS, 'must not contain control characters')
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved name (__proto__, constructor, prototype)');

/** Git branch names (git check-ref-format, restricted to a safe alphabet). */
export const branchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._/-]+$/, 'may contain only letters, digits, . _ / -')
  .refine(
    (b) => !b.startsWith('-') && !b.startsWith('/') && !b.endsWith('/') && !b.endsWith('.') && !b.endsWith('.lock'),
    'is not a valid branch name',
  )
  .refine(
    (b) => !b.includes('..') && !b.includes('//') && !b.split('/').some((s) => s.startsWith('.')),
    'is not a valid branch name',
  );

export const timestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');

/** Query parameter `limit`: 1–200, default 50 (docs/api.md). */
export const limitParam = z
  .string()
  .regex(/^\d{1,3}$/, 'must be an integer from 1 to 200')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be an integer from 1 to 200').max(200, 'must be an integer from 1 to 200'))
  .optional()
  .describe('Page size, 1–200 (default 50).');

export const cursorParam = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .describe("Opaque cursor from a previous page's `next_cursor`.");

export const pagingQuery = { cursor: cursorParam, limit: limitParam };

export const idParams = z.strictObject({ id });

/** `{data, next_cursor, has_more}` around a list of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.strictObject({
    data: z.array(item),
    next_cursor: z.string().nullable(),
    has_more: z.boolean(),
  });
}

const errorCodes = Object.keys(ENDPOINT_ERRORS) as [keyof typeof ENDPOINT_ERRORS, ...(keyof typeof ENDPOINT_ERRORS)[]];

/** The one error envelope (docs/api.md). */
export const errorEnvelope = z.strictObject({
  detail: z.strictObject({
    error_code: z.enum(errorCodes),
    message: z.string(),
    retryable: z.boolean(),
    field: z
      .string()
      .optional()
      .describe('For VALIDATION_ERROR: the offending field, e.g. `config_diff.k1.to` or `cursor`.'),
    request_id: z.string().optional().describe('For INTERNAL_ERROR: the request id to quote to the operator.'),
  }),
});

// Checks REST requests, and the sandbox's own answers, against GitHub's published OpenAPI
// description (@octokit/openapi, api.github.com). A request GitHub would reject must fail the
// sandbox's caller, so the check is strict: unknown body fields and unknown query parameters count
// as errors too. An answer GitHub would not give fails the suite (index.ts `close`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}
interface Operation {
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses?: Record<string, { content?: Record<string, { schema: Json }> } | { $ref: string }>;
}
interface Compiled {
  query: ValidateFunction;
  body?: ValidateFunction;
  bodyRequired: boolean;
}

function loadSpec(): { paths: Record<string, Record<string, Operation>> } & Json {
  const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  return JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, Operation>> } & Json;
}

export class OpenApiValidator {
  private spec: ReturnType<typeof loadSpec> | undefined;
  private readonly compiled = new Map<string, Compiled>();
  private readonly bodyAjv = createAjv(false);
  private readonly queryAjv = createAjv(true);
  /** Compiled response schemas by `method template status`; null: no body documented. */
  private readonly responses = new Map<string, ValidateFunction | null>();
  private readonly responseAjv = createAjv(false);

  /** Error messages (empty when valid) for `method template` with this query and raw body. */
  check(method: string, template: string, query: Record<string, string>, rawBody: string): string[] {
    const op = this.compile(method.toLowerCase(), template);
    const errors: string[] = [];
    const queryCopy: Record<string, unknown> = { ...query };
    if (!op.query(queryCopy)) errors.push(...describe('query', op.query));
    if (op.body === undefined) {
      if (rawBody.trim() !== '') errors.push('body: this operation takes no request body');
      return errors;
    }
    if (rawBody.trim() === '') {
      if (op.bodyRequired) errors.push('body: required');
      return errors;
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return [...errors, 'body: not valid JSON'];
    }
    if (!op.body(body)) errors.push(...describe('body', op.body));
    return errors;
  }

  /**
   * Error messages (empty when valid) for the answer `status` with `body` to `method template`:
   * a success status must be one GitHub documents for the operation, and the body must match its
   * schema (an error without a documented body is checked against GitHub's basic error).
   */
  checkResponse(method: string, template: string, status: number, body: unknown): string[] {
    const key = `${method.toLowerCase()} ${template} ${status}`;
    let validate = this.responses.get(key);
    if (validate === undefined) {
      this.spec ??= loadSpec();
      const operation = this.spec.paths[template]?.[method.toLowerCase()];
      if (operation === undefined) return [`no operation ${method} ${template} in GitHub's OpenAPI description`];
      const documented = operation.responses?.[String(status)];
      if (documented === undefined && status < 400)
        return [`status ${status} is not an answer GitHub documents for this operation`];
      const entry = (documented === undefined ? undefined : this.inline(documented)) as
        { content?: Record<string, { schema: Json }> } | undefined;
      // An error documented without a body (or not at all) still carries GitHub's error envelope,
      // whose `message` every GitHub error has.
      const schema =
        entry?.content?.['application/json']?.schema ??
        (status >= 400
          ? { ...(this.inline({ $ref: '#/components/schemas/basic-error' }) as Json), required: ['message'] }
          : undefined);
      validate = schema === undefined ? null : this.responseAjv.compile(nullableWithoutType(schema) as Json);
      this.responses.set(key, validate);
    }
    if (validate === null) return body === undefined || body === null || body === '' ? [] : ['body: none documented'];
    return validate(body) ? [] : describe('answer', validate);
  }

  private compile(method: string, template: string): Compiled {
    const key = `${method} ${template}`;
    const cached = this.compiled.get(key);
    if (cached !== undefined) return cached;
    this.spec ??= loadSpec();
    const operation = this.spec.paths[template]?.[method];
    if (operation === undefined) throw new Error(`no operation ${key} in GitHub's OpenAPI description`);
    const params = (operation.parameters ?? []).map((p) => this.inline(p) as Parameter).filter((p) => p.in === 'query');
    const querySchema = {
      type: 'object',
      properties: Object.fromEntries(params.map((p) => [p.name, p.schema ?? {}])),
      required: params.filter((p) => p.required === true).map((p) => p.name),
      additionalProperties: false,
    };
    const jsonBody = operation.requestBody?.content['application/json']?.schema;
    let body: ValidateFunction | undefined;
    if (jsonBody !== undefined) {
      const schema = this.inline(jsonBody) as Json;
      // GitHub ignores some unknown fields, but a field it does not know is a bug in our client.
      if (schema.type === 'object' && schema.additionalProperties === undefined) schema.additionalProperties = false;
      body = this.bodyAjv.compile(schema);
    }
    const result = {
      query: this.queryAjv.compile(querySchema),
      body,
      bodyRequired: operation.requestBody?.required === true,
    };
    this.compiled.set(key, result);
    return result;
  }

  /** Deep copy with local `$ref`s replaced by their targets (a cycle becomes `{}`). */
  private inline(node: unknown, stack: string[] = []): unknown {
    if (Array.isArray(node)) return node.map((n) => this.inline(n, stack));
    if (node === null || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      if (stack.includes(ref)) return {};
      return this.inline(this.resolve(ref), [...stack, ref]);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, this.inline(v, stack)]));
  }

  private resolve(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let node: unknown = this.spec;
    for (const part of ref.slice(2).split('/')) {
      node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return node;
  }
}

/**
 * OpenAPI 3.0's `nullable` beside a composition and no `type` (`{nullable: true, allOf: [...]}`,
 * common in GitHub's response schemas) as JSON Schema: the composition or null. Ajv reads
 * `nullable` only beside a `type`.
 */
function nullableWithoutType(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableWithoutType);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Json;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, nullableWithoutType(v)]));
  if (nullable === true && rest.type === undefined) return { anyOf: [converted, { type: 'null' }] };
  // A nullable enum admits null too (OpenAPI 3.0), though its list does not name it.
  if (nullable === true && Array.isArray(converted.enum) && !converted.enum.includes(null))
    return { ...converted, enum: [...converted.enum, null], nullable };
  return nullable === undefined ? converted : { ...converted, nullable };
}

function createAjv(coerceTypes: boolean): Ajv {
  // strict: false: OpenAPI 3.0 schemas carry keywords ajv does not know (example, x-*); ajv
  // understands OpenAPI's `nullable` natively.
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes });
  addFormats.default(ajv);
  ajv.addFormat('repo.nwo', /^[^/\s]+\/[^/\s]+$/);
  ajv.addFormat('uri-template', true);
  return ajv;
}

function describe(where: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : '';
    return `${where}${e.instancePath}: ${e.message ?? e.keyword}${extra}`;
  });
}

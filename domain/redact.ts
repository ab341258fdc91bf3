// Token redaction (SPEC §6). One function, `redact`, handles strings, nested objects, arrays and
// errors (message, stack, cause); it is applied to every log line, every failure leaving an
// activity, every text sent to GitHub and every stored pr_open_error.

export const REDACTED = '[REDACTED-GH-TOKEN]';

// Fine-grained PATs (github_pat_…) and the classic family ghp_/gho_/ghu_/ghs_/ghr_ (SPEC §6).
// The character class excludes '-' and '.', so git SHAs, UUIDs and hex digests never match:
// they lack the prefix.
const TOKEN_PATTERNS = [/github_pat_[A-Za-z0-9_]{20,}/g, /gh[a-z]_[A-Za-z0-9_]{36,}/g];

/** Shorter literals are refused: redacting them would shred ordinary text. */
export const MIN_LITERAL_SECRET_LENGTH = 8;

/**
 * Redacts GitHub token patterns plus the literal secrets registered with it (tokens loaded from
 * the secrets dir, the API token). One instance is created per process by its entry point and
 * handed to everything that emits text.
 */
export class Redactor {
  private readonly literals = new Set<string>();

  /** Registers a secret value; whitespace around it (as read from a file) is ignored. */
  register(secret: string): void {
    const value = secret.trim();
    if (value.length < MIN_LITERAL_SECRET_LENGTH) return;
    this.literals.add(value);
    // JSON and URL encodings of the same secret appear in serialized logs and URLs.
    const json = JSON.stringify(value).slice(1, -1);
    if (json !== value) this.literals.add(json);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.literals.add(encoded);
  }

  redactString(text: string): string {
    let out = text;
    for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
    // Longest first, so a literal containing another is removed whole.
    for (const literal of [...this.literals].sort((a, b) => b.length - a.length)) {
      if (out.includes(literal)) out = out.split(literal).join(REDACTED);
    }
    return out;
  }

  /** Deep copy of `value` with every string redacted; errors become plain objects. */
  redact<T>(value: T): T {
    return this.walk(value, new WeakMap()) as T;
  }

  private walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return seen.get(value);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.walk(item, seen));
      return out;
    }
    if (value instanceof Error) return this.walkError(value, seen);
    if (value instanceof Date || ArrayBuffer.isView(value)) return value;
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) out[this.redactString(k)] = this.walk(v, seen);
    return out;
  }

  private walkError(error: Error, seen: WeakMap<object, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    seen.set(error, out);
    out.type = error.name;
    out.message = this.redactString(error.message);
    if (error.stack !== undefined) out.stack = this.redactString(error.stack);
    for (const [k, v] of Object.entries(error)) out[k] = this.walk(v, seen);
    if (error.cause !== undefined) out.cause = this.walk(error.cause, seen);
    return out;
  }
}

/** Pattern-only redaction, for code that has no loaded secret to add (e.g. pure renderers). */
export function redactTokens(text: string): string {
  return new Redactor().redactString(text);
}

// Token redaction (docs/architecture.md "Security rules"). One function, `redact`, handles strings,
// nested objects, arrays and errors (message, stack, cause); it is applied to every log line, every
// failure leaving an activity, every text sent to GitHub and every stored pr_open_error.

export const REDACTED = '[REDACTED-GH-TOKEN]';

// Fine-grained PATs (github_pat_…) and the classic family ghp_/gho_/ghu_/ghs_/ghr_
// (docs/architecture.md "Security rules"). The character class excludes '-' and '.', so git SHAs,
// UUIDs and hex digests never match: they lack the prefix.
const TOKEN_PATTERNS = [/github_pat_[A-Za-z0-9_]{20,}/g, /gh[a-z]_[A-Za-z0-9_]{36,}/g];

/** What a redaction removed: a GitHub token found by its pattern, or a registered secret. */
export type RedactionKind = 'token_pattern' | 'secret';

/**
 * Redactions a Redactor made since it was created, by kind: for the process's own redactor, the
 * redacted-secret metric (docs/operations.md "Metrics"). Each is a secret that was about to reach
 * a log line, a stored failure or a forge; a rising count means some component echoes credentials.
 */
export type RedactionCounts = Record<RedactionKind, number>;

/** Shorter literals are refused: redacting them would shred ordinary text. */
export const MIN_LITERAL_SECRET_LENGTH = 8;

/**
 * A quoted fragment of a private key this long (24 bytes of key) or longer is redacted wherever it
 * starts. Shorter runs of base64 text are everywhere (SHAs, ids) and say too little of a key.
 */
export const KEY_WINDOW = 32;

/** A run of base64 or base64url characters, `+` and `/` also URL-encoded, long enough to hold a window. */
const BASE64_RUN = new RegExp(`(?:[A-Za-z0-9+/_-]|%2[BbFf]){${KEY_WINDOW},}`, 'g');

/** The base64 lines of a PEM's body: no BEGIN/END armour, no `Proc-Type:`-style headers. */
function pemBodyLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('-----') && !l.includes(':'));
}

/**
 * Redacts GitHub token patterns plus the literal secrets registered with it (tokens loaded from
 * the secrets dir, the API token). One instance is created per process by its entry point and
 * handed to everything that emits text.
 */
export class Redactor {
  /** What this redactor removed, by kind. */
  readonly counts: RedactionCounts = { token_pattern: 0, secret: 0 };
  private readonly literals = new Set<string>();
  /** `literals`, longest first (so a literal containing another is removed whole); rebuilt on change. */
  private ordered: string[] | undefined;
  /** Every KEY_WINDOW-character run of registered private keys' base64 bodies and encodings. */
  private readonly keyWindows = new Set<string>();
  private readonly keys = new Set<string>();

  /** Registers a secret value; whitespace around it (as read from a file) is ignored. */
  register(secret: string): void {
    const value = secret.trim();
    if (value.length < MIN_LITERAL_SECRET_LENGTH || this.literals.has(value)) return;
    this.ordered = undefined;
    this.literals.add(value);
    // JSON and URL encodings of the same secret appear in serialized logs and URLs.
    const json = JSON.stringify(value).slice(1, -1);
    if (json !== value) this.literals.add(json);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.literals.add(encoded);
    // A server may echo the credential base64-encoded (a Basic header value, or the token inside a
    // larger encoded blob). Every such text contains one of three fixed strings, one per byte
    // alignment of the secret within the encoded data (base64 works in 3-byte groups).
    for (const form of base64Forms(value)) {
      this.literals.add(form);
      const url = encodeURIComponent(form);
      if (url !== form) this.literals.add(url);
    }
  }

  /**
   * Registers a private key (PEM) so that no part of it long enough to matter survives: the whole
   * text, each line of its body, and — because a server may quote a fragment that starts anywhere —
   * every KEY_WINDOW-character run of its base64 body and of the base64 encodings of the PEM.
   * A text run of base64 characters containing any of those windows is redacted whole.
   */
  registerPrivateKey(pem: string): void {
    if (this.keys.has(pem)) return;
    this.keys.add(pem);
    this.register(pem);
    const body = pemBodyLines(pem);
    for (const line of body) this.register(line);
    for (const source of [body.join(''), ...base64Forms(pem.trim())]) {
      for (let i = 0; i + KEY_WINDOW <= source.length; i++) this.keyWindows.add(source.slice(i, i + KEY_WINDOW));
    }
  }

  redactString(text: string): string {
    let out = text;
    let patternHits = 0;
    for (const pattern of TOKEN_PATTERNS) {
      out = out.replace(pattern, () => {
        patternHits += 1;
        return REDACTED;
      });
    }
    let secretHits = 0;
    if (this.keyWindows.size > 0) {
      out = out.replace(BASE64_RUN, (run) => {
        if (!this.holdsKeyWindow(run)) return run;
        secretHits += 1;
        return REDACTED;
      });
    }
    this.ordered ??= [...this.literals].sort((a, b) => b.length - a.length);
    for (const literal of this.ordered) {
      if (!out.includes(literal)) continue;
      const parts = out.split(literal);
      secretHits += parts.length - 1;
      out = parts.join(REDACTED);
    }
    this.counts.token_pattern += patternHits;
    this.counts.secret += secretHits;
    return out;
  }

  private holdsKeyWindow(run: string): boolean {
    const plain = run.replace(/%2B/gi, '+').replace(/%2F/gi, '/');
    for (let i = 0; i + KEY_WINDOW <= plain.length; i++) {
      if (this.keyWindows.has(plain.slice(i, i + KEY_WINDOW))) return true;
    }
    return false;
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

/**
 * The base64 (and base64url) text that encodes `secret` wherever it sits in a longer byte string:
 * for each offset modulo 3, the characters that depend on the secret's bytes alone. They are found
 * by encoding the secret between all-zero and all-one neighbours and keeping the run of characters
 * the two encodings share; the characters at either end mix in neighbouring bytes and differ.
 * Forms shorter than the literal minimum are dropped (a 1-byte secret has no form of its own).
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const low = Buffer.concat([Buffer.alloc(offset, 0x00), bytes, Buffer.alloc(3, 0x00)]).toString('base64');
    const high = Buffer.concat([Buffer.alloc(offset, 0xff), bytes, Buffer.alloc(3, 0xff)]).toString('base64');
    let start = 0;
    while (start < low.length && low[start] !== high[start]) start++;
    let end = start;
    while (end < low.length && low[end] === high[end]) end++;
    const form = low.slice(start, end);
    if (form.length < MIN_LITERAL_SECRET_LENGTH) continue;
    forms.add(form);
    forms.add(form.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...forms];
}

/**
 * Pattern-only redaction, for code that has no loaded secret to add (pure renderers). Not counted:
 * what they render is redacted again, and counted, by the process's redactor before it leaves.
 */
export function redactTokens(text: string): string {
  return new Redactor().redactString(text);
}

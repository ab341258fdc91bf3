// Applies a proposal's config_diff to a params file (docs/architecture.md "The open-PR workflow" step 8). Keys are flat
// ("field_boosts.title" is one key). The file is edited by splicing values into its text, so key
// order, indentation and the trailing newline survive and `git diff` shows only changed lines.
// A `from` that differs from the file is drift: reported for the PR body, never blocking.
// Keys such as `__proto__` are only ever looked up as own properties and written as text, so
// they cannot reach Object.prototype.
import { scanRootObject, type JsonMember } from './json-members.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a config diff may set: one flat JSON scalar of the params file. */
export type ScalarValue = string | number | boolean | null;

// Type aliases, not interfaces: Prisma's JSON input type needs an implicit index signature.
/** One parameter's change as stored with the proposal and validated by the API (docs/architecture.md "Data"). */
export type ConfigDiffEntry = { from: ScalarValue; to: ScalarValue };
export type ConfigDiff = Record<string, ConfigDiffEntry>;

export interface ParamChange {
  key: string;
  from: JsonValue | undefined;
  to: JsonValue;
  /** The value in the file before the edit; undefined when the key is new. */
  fileValue: JsonValue | undefined;
  /** `from` differs from the file's value. */
  drift: boolean;
  /** The key was not in the file and was appended. */
  added: boolean;
}

export interface ApplyDiffInput {
  fileText: string;
  diff: ConfigDiff;
  declaredParams: readonly string[];
}

export type ApplyDiffResult =
  | { ok: true; text: string; changed: boolean; changes: ParamChange[] }
  | { ok: false; code: 'PARAM_NOT_IN_TEMPLATE' | 'PARAMS_FILE_NOT_FOUND'; message: string };

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const aRecord = a as Record<string, JsonValue>;
  const bRecord = b as Record<string, JsonValue>;
  return aKeys.every((k) => Object.hasOwn(bRecord, k) && jsonEqual(aRecord[k], bRecord[k]));
}

function ownValue(record: Record<string, JsonValue>, key: string): JsonValue | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Serializes `value` for a member whose line starts with `indent`, nested levels by `unit`. */
function serialize(value: JsonValue, indent: string, unit: string): string {
  if (unit === '') return JSON.stringify(value);
  return JSON.stringify(value, null, unit).split('\n').join(`\n${indent}`);
}

interface Style {
  /** Whitespace before each member (after the line break); '' for a one-line object. */
  indent: string;
  multiline: boolean;
  /** Text between a key's closing quote and its value, e.g. `: `. */
  colon: string;
}

function detectStyle(text: string, first: JsonMember | undefined): Style {
  if (first === undefined) return { indent: '  ', multiline: true, colon: ': ' };
  const lineStart = text.lastIndexOf('\n', first.keyStart) + 1;
  const before = text.slice(lineStart, first.keyStart);
  const multiline = lineStart > 0 && /^[ \t]*$/.test(before);
  const colon = text.slice(first.keyEnd, first.valueStart);
  return { indent: multiline ? before : '', multiline, colon };
}

export function tryApplyConfigDiff({ fileText, diff, declaredParams }: ApplyDiffInput): ApplyDiffResult {
  const declared = new Set(declaredParams);
  const keys = Object.keys(diff);
  const undeclared = keys.filter((k) => !declared.has(k));
  if (undeclared.length > 0) {
    return {
      ok: false,
      code: 'PARAM_NOT_IN_TEMPLATE',
      message: `parameter ${undeclared.map((k) => JSON.stringify(k)).join(', ')} is not declared by the template`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fileText);
  } catch (error) {
    return {
      ok: false,
      code: 'PARAMS_FILE_NOT_FOUND',
      message: `params file is not valid JSON: ${(error as Error).message}`,
    };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, code: 'PARAMS_FILE_NOT_FOUND', message: 'params file must hold a JSON object' };
  }
  const current = parsed as Record<string, JsonValue>;
  const layout = scanRootObject(fileText);
  // JSON.parse keeps the last of duplicate keys; edit that one.
  const memberOf = new Map<string, JsonMember>(layout.members.map((m) => [m.key, m]));
  const style = detectStyle(fileText, layout.members[0]);
  const unit = style.multiline ? style.indent : '';

  const changes: ParamChange[] = [];
  const splices: { start: number; end: number; text: string }[] = [];
  const appended: string[] = [];
  for (const key of keys) {
    // Read defensively: a stored diff is data, whatever its type says.
    const entry = diff[key] as { from?: JsonValue; to: JsonValue };
    const fileValue = ownValue(current, key);
    const added = !Object.hasOwn(current, key);
    const drift = added ? entry.from !== undefined && entry.from !== null : !jsonEqual(entry.from, fileValue);
    changes.push({ key, from: entry.from, to: entry.to, fileValue, drift, added });
    if (!added && jsonEqual(fileValue, entry.to)) continue;
    const member = memberOf.get(key);
    if (member !== undefined) {
      splices.push({ start: member.valueStart, end: member.valueEnd, text: serialize(entry.to, style.indent, unit) });
    } else {
      appended.push(`${JSON.stringify(key)}${style.colon}${serialize(entry.to, style.indent, unit)}`);
    }
  }

  let text = fileText;
  if (appended.length > 0) {
    const last = layout.members.at(-1);
    const separator = style.multiline ? `,\n${style.indent}` : ', ';
    if (last !== undefined) {
      splices.push({ start: last.valueEnd, end: last.valueEnd, text: `${separator}${appended.join(separator)}` });
    } else {
      const closeIndent = text.slice(text.lastIndexOf('\n', layout.open) + 1, layout.open).match(/^[ \t]*/)?.[0] ?? '';
      splices.push({
        start: layout.open + 1,
        end: layout.close,
        text: `\n${style.indent}${appended.join(separator)}\n${closeIndent}`,
      });
    }
  }
  for (const s of splices.sort((a, b) => b.start - a.start)) text = text.slice(0, s.start) + s.text + text.slice(s.end);
  changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { ok: true, text, changed: text !== fileText, changes };
}

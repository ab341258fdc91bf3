// Locates the members of a JSON document's root object in its text, so a params file can be
// edited by splicing only the changed values (docs/architecture.md "The open-PR workflow" step 8:
// the PR diff shows only changed lines). The text must already have passed JSON.parse; this scanner
// trusts its shape.

export interface JsonMember {
  key: string;
  /** Offset of the key's opening quote. */
  keyStart: number;
  /** Offset just past the key's closing quote. */
  keyEnd: number;
  valueStart: number;
  /** Offset just past the value. */
  valueEnd: number;
}

export interface RootObjectLayout {
  members: JsonMember[];
  /** Offset of the root `{`. */
  open: number;
  /** Offset of the root `}`. */
  close: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
  return i;
}

/** Offset just past the string starting at `i` (which is a `"`). */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Offset just past the value starting at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i = skipString(text, i);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      i++;
      if (depth === 0) return i;
    }
    return i;
  }
  while (i < text.length && !WHITESPACE.has(text[i] as string) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']')
    i++;
  return i;
}

/** Layout of the root object of `text`, which JSON.parse accepted and whose root is an object. */
export function scanRootObject(text: string): RootObjectLayout {
  const open = skipWhitespace(text, 0);
  const members: JsonMember[] = [];
  let i = skipWhitespace(text, open + 1);
  while (text[i] !== '}') {
    const keyStart = i;
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    i = skipWhitespace(text, i + 1); // past ':'
    const valueStart = i;
    const valueEnd = skipValue(text, i);
    members.push({ key, keyStart, keyEnd, valueStart, valueEnd });
    i = skipWhitespace(text, valueEnd);
    if (text[i] === ',') i = skipWhitespace(text, i + 1);
  }
  return { members, open, close: i };
}

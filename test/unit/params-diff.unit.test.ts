import { describe, test, expect } from '@jest/globals';
import { tryApplyConfigDiff, type ConfigDiff } from '../../domain/params-diff.js';

const DECLARED = [
  'field_boosts.title',
  'field_boosts.body',
  'bm25.k1',
  'fuzziness',
  'tags',
  '__proto__',
  'constructor',
  'prototype',
];

/** Diffs are read as data: these tests also feed shapes the API never stores (no `from`, a list). */
function apply(
  fileText: string,
  diff: Record<string, { from?: unknown; to: unknown }>,
  declaredParams: readonly string[] = DECLARED,
) {
  return tryApplyConfigDiff({ fileText, diff: diff as ConfigDiff, declaredParams });
}

/** Lines that differ between two texts of the same line count (the shape `git diff` shows). */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  return b.filter((line, i) => line !== a[i]);
}

describe('tryApplyConfigDiff', () => {
  test.each([
    ['two spaces', '{\n  "field_boosts.title": 2.0,\n  "bm25.k1": 1.2\n}\n', '  "field_boosts.title": 4.5,'],
    ['four spaces', '{\n    "field_boosts.title": 2.0,\n    "bm25.k1": 1.2\n}\n', '    "field_boosts.title": 4.5,'],
    ['tabs', '{\n\t"field_boosts.title": 2.0,\n\t"bm25.k1": 1.2\n}\n', '\t"field_boosts.title": 4.5,'],
    ['no trailing newline', '{\n  "field_boosts.title": 2.0,\n  "bm25.k1": 1.2\n}', '  "field_boosts.title": 4.5,'],
    [
      'CRLF line ends',
      '{\r\n  "field_boosts.title": 2.0,\r\n  "bm25.k1": 1.2\r\n}\r\n',
      '  "field_boosts.title": 4.5,\r',
    ],
  ])('%s: only the changed line differs, the rest is byte-identical', (_name, fileText, expectedLine) => {
    const result = apply(fileText, { 'field_boosts.title': { from: 2.0, to: 4.5 } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(changedLines(fileText, result.text)).toEqual([expectedLine]);
    expect(result.text.split('\n')).toHaveLength(fileText.split('\n').length);
    expect(JSON.parse(result.text)).toEqual({ 'field_boosts.title': 4.5, 'bm25.k1': 1.2 });
  });

  test('keeps key order, nested values and untouched number spellings', () => {
    const fileText = '{\n  "tags": [1, 2],\n  "bm25.k1": 1.20,\n  "fuzziness": "AUTO",\n  "x": {"a": 1}\n}\n';
    const result = apply(fileText, { fuzziness: { from: 'AUTO', to: 'AUTO:3,6' } }, [...DECLARED, 'x']);
    expect(result.ok && result.text).toBe(
      '{\n  "tags": [1, 2],\n  "bm25.k1": 1.20,\n  "fuzziness": "AUTO:3,6",\n  "x": {"a": 1}\n}\n',
    );
  });

  test('a flat dotted key is one key, never a nested path', () => {
    const fileText = '{\n  "field_boosts": {"title": 1},\n  "field_boosts.title": 2\n}\n';
    const result = apply(fileText, { 'field_boosts.title': { from: 2, to: 3 } }, [...DECLARED, 'field_boosts']);
    expect(result.ok && JSON.parse(result.text)).toEqual({ field_boosts: { title: 1 }, 'field_boosts.title': 3 });
  });

  test.each([
    [
      'multi-line',
      '{\n  "bm25.k1": 1.2\n}\n',
      '{\n  "bm25.k1": 1.2,\n  "fuzziness": "AUTO",\n  "tags": [\n    "a",\n    "b"\n  ]\n}\n',
    ],
    ['empty object', '{}\n', '{\n  "fuzziness": "AUTO",\n  "tags": [\n    "a",\n    "b"\n  ]\n}\n'],
    ['one line', '{"bm25.k1": 1.2}', '{"bm25.k1": 1.2, "fuzziness": "AUTO", "tags": ["a","b"]}'],
  ])('new keys are appended (%s)', (_name, fileText, expected) => {
    const result = apply(fileText, { fuzziness: { to: 'AUTO' }, tags: { from: null, to: ['a', 'b'] } });
    expect(result.ok && result.text).toBe(expected);
    expect(result.ok && result.changes.map((c) => [c.key, c.added, c.drift])).toEqual([
      ['fuzziness', true, false],
      ['tags', true, false],
    ]);
  });

  test.each([
    ['from matches', 2.0, false],
    ['from differs', 3.0, true],
    ['from absent', undefined, true],
  ])('drift is reported, not blocking: %s', (_name, from, drift) => {
    const diff = { 'field_boosts.title': from === undefined ? { to: 4.5 } : { from, to: 4.5 } };
    const result = apply('{"field_boosts.title": 2}', diff);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.changes).toEqual([{ key: 'field_boosts.title', from, to: 4.5, fileValue: 2, drift, added: false }]);
    expect(JSON.parse(result.text)).toEqual({ 'field_boosts.title': 4.5 });
  });

  test('a value already at `to` leaves the text untouched', () => {
    const fileText = '{\n  "bm25.k1": 1.50\n}\n';
    const result = apply(fileText, { 'bm25.k1': { from: 1.2, to: 1.5 } });
    expect(result.ok && [result.text, result.changed]).toEqual([fileText, false]);
  });

  test.each([
    ['one undeclared key', { 'bm25.b': { to: 0.7 } }, '"bm25.b"'],
    ['prototype-looking key not declared', JSON.parse('{"__proto__": {"to": 1}}') as ConfigDiff, '"__proto__"'],
  ])('PARAM_NOT_IN_TEMPLATE: %s', (_name, diff, named) => {
    const result = apply('{"bm25.b": 0.5}', diff, ['bm25.k1']);
    expect(result).toEqual({ ok: false, code: 'PARAM_NOT_IN_TEMPLATE', message: expect.stringContaining(named) });
  });

  test.each([
    ['malformed JSON', '{"bm25.k1": 1.2,', 'not valid JSON'],
    ['empty file', '', 'not valid JSON'],
    ['array root', '[1, 2]', 'JSON object'],
    ['string root', '"x"', 'JSON object'],
    ['null root', 'null', 'JSON object'],
  ])('PARAMS_FILE_NOT_FOUND: %s', (_name, fileText, message) => {
    const result = apply(fileText, { 'bm25.k1': { to: 1.5 } });
    expect(result).toEqual({ ok: false, code: 'PARAMS_FILE_NOT_FOUND', message: expect.stringContaining(message) });
  });

  test.each(['__proto__', 'constructor', 'prototype'])(
    '%s round-trips as a plain key without polluting prototypes',
    (key) => {
      const fileText = `{\n  ${JSON.stringify(key)}: 1,\n  "bm25.k1": 1.2\n}\n`;
      const diff = JSON.parse(`{${JSON.stringify(key)}: {"from": 1, "to": {"polluted": true}}}`) as ConfigDiff;
      const result = apply(fileText, diff);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const reparsed = JSON.parse(result.text) as Record<string, unknown>;
      expect(Object.getOwnPropertyDescriptor(reparsed, key)?.value).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(result.changes[0]).toMatchObject({ key, drift: false, added: false });
    },
  );

  test('__proto__ missing from the file is appended, not read from Object.prototype', () => {
    const diff = JSON.parse('{"__proto__": {"to": 5}}') as ConfigDiff;
    const result = apply('{\n  "bm25.k1": 1.2\n}\n', diff);
    expect(result.ok && result.changes[0]).toMatchObject({
      key: '__proto__',
      fileValue: undefined,
      added: true,
      drift: false,
    });
    expect(result.ok && result.text).toBe('{\n  "bm25.k1": 1.2,\n  "__proto__": 5\n}\n');
  });

  test('duplicate keys: the last one (the one JSON.parse reads) is edited', () => {
    const result = apply('{"bm25.k1": 1, "bm25.k1": 2}', { 'bm25.k1': { from: 2, to: 3 } });
    expect(result.ok && result.text).toBe('{"bm25.k1": 1, "bm25.k1": 3}');
  });

  test('strings with escaped quotes and braces do not confuse the scanner', () => {
    const fileText = '{\n  "tags": "a \\"}\\" {[",\n  "bm25.k1": 1\n}\n';
    const result = apply(fileText, { 'bm25.k1': { from: 1, to: 2 } });
    expect(result.ok && JSON.parse(result.text)).toEqual({ tags: 'a "}" {[', 'bm25.k1': 2 });
  });
});

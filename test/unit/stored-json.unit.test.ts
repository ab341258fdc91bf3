// The JSON columns are checked when read back, against the shapes the API writes.
import { describe, expect, test } from '@jest/globals';
import { readConfigDiff, readMetricDelta, readParameterImportance, StoredJsonError } from '../../domain/stored-json.js';

describe('stored JSON columns', () => {
  test('the shapes the API writes read back as they are', () => {
    expect(readConfigDiff({ 'bm25.k1': { from: 1.2, to: 1.35 }, fuzziness: { from: 'AUTO', to: null } })).toEqual({
      'bm25.k1': { from: 1.2, to: 1.35 },
      fuzziness: { from: 'AUTO', to: null },
    });
    expect(readMetricDelta({ 'ndcg@10': { baseline: 0.4, achieved: 0.45, delta_pct: 12.5 } })).toEqual({
      'ndcg@10': { baseline: 0.4, achieved: 0.45, delta_pct: 12.5 },
    });
    expect(readMetricDelta(null)).toBeNull();
    expect(readParameterImportance({ a: 0.6 })).toEqual({ a: 0.6 });
    expect(readParameterImportance(null)).toBeNull();
  });

  test.each([
    ['config_diff without `to`', () => readConfigDiff({ a: { from: 1 } }), /proposals\.config_diff .*a\.to/],
    [
      'config_diff with a nested value',
      () => readConfigDiff({ a: { from: 1, to: { x: 1 } } }),
      /proposals\.config_diff/,
    ],
    [
      'metric_delta with a string',
      () => readMetricDelta({ m: { baseline: '0.4', achieved: 0.5, delta_pct: null } }),
      /proposals\.metric_delta .*m\.baseline/,
    ],
    ['parameter_importance as a list', () => readParameterImportance([0.5]), /studies\.parameter_importance/],
  ])('%s is refused by name', (_name, read, message) => {
    expect(read).toThrow(StoredJsonError);
    expect(read).toThrow(message);
  });
});

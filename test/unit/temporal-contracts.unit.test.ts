// The dev server registers exactly the search attributes the workflows set (temporal-dev.yaml ↔
// domain/temporal-contracts.ts): one missing there would fail every workflow task that sets it.
import { expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTE_TYPES } from '../../domain/temporal-contracts.js';

test('temporal-dev.yaml registers every search attribute of the contract, and no other', async () => {
  const dev = parse(await readFile(new URL('../../temporal-dev.yaml', import.meta.url), 'utf8')) as { search_attributes: Record<string, string> };
  expect(dev.search_attributes).toEqual(SEARCH_ATTRIBUTE_TYPES);
  expect(Object.keys(SEARCH_ATTRIBUTE_TYPES)).toContain('OpenPrErrorCode');
});

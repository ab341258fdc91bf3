// One definition of the search attributes (domain/temporal-contracts.ts): the dev server registers
// exactly those, and the README's commands for an external cluster are exactly their rendering. One
// missing would fail every workflow task that sets it.
import { expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  SEARCH_ATTRIBUTES,
  searchAttributeCreateCommands,
  searchAttributeDefinitions,
} from '../../domain/temporal-contracts.js';
import { devServerArgs, readDevServerSettings } from '../../runtime/dev-server.js';

test('the dev server registers every search attribute of the contract, and no other', async () => {
  const settings = await readDevServerSettings(new URL('../../temporal-dev.yaml', import.meta.url).pathname);
  const args = devServerArgs(settings, '/tmp/data');
  const registered = args.flatMap((arg, i) => (arg === '--search-attribute' ? [args[i + 1]] : []));
  expect(registered).toEqual(
    Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=${key.type === 'DATETIME' ? 'Datetime' : 'Keyword'}`),
  );
  expect(registered).toContain('OpenPrStepSince=Datetime');
  expect(registered).toContain('OpenPrErrorCode=Keyword');
});

test('README.md lists the command for each, for clusters the service does not launch', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const listed = readme
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('temporal operator search-attribute create'));
  expect(listed).toEqual(searchAttributeCreateCommands('relyloop'));
  expect(searchAttributeDefinitions().map((d) => d.type)).toEqual([
    ...Array(listed.length - 1).fill('Keyword'),
    'Datetime',
  ]);
});

test('temporal-dev.yaml tunes the dev server: one partition, eager activities, WAL', async () => {
  const settings = await readDevServerSettings(new URL('../../temporal-dev.yaml', import.meta.url).pathname);
  const args = devServerArgs(settings, '/tmp/data').join(' ');
  expect(args).toContain('--dynamic-config-value matching.numTaskqueueReadPartitions=1');
  expect(args).toContain('--dynamic-config-value matching.numTaskqueueWritePartitions=1');
  expect(args).toContain('--dynamic-config-value system.enableActivityEagerExecution=true');
  expect(args).toContain('--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal');
});

test('a pragma the CLI does not allow is refused when the file is read', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dev-yaml-'));
  const file = path.join(dir, 'temporal-dev.yaml');
  const base = await readFile(new URL('../../temporal-dev.yaml', import.meta.url), 'utf8');
  await writeFile(file, base.replace('synchronous: normal', 'cache_size: "100000"'));
  await expect(readDevServerSettings(file)).rejects.toThrow(/sqlite_pragmas/);
  await rm(dir, { recursive: true });
});

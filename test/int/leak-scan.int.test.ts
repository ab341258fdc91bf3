// The leak checks themselves: each one catches a deliberately planted token where a naive
// search misses it, and reports that it looked at something.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { Redactor, base64Forms } from '../../domain/redact.js';
import { leakFormsOf, scanFiles, scanGitDir, scanHistory, scanTexts } from '../support/leak-scan.js';

// Matches none of GitHub's token patterns: only the literal registration can redact it.
const PLANTED = 'plain-credential-4be1c07d9a2f';
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'leak-scan-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// As fetched from Temporal, payload bytes are Buffers (whose toJSON hides them from a replacer).
const payload = (value: unknown): temporal.api.common.v1.IPayload => {
  const p = defaultPayloadConverter.toPayload(value) as temporal.api.common.v1.IPayload;
  return { metadata: p.metadata, data: Buffer.from(p.data as Uint8Array) };
};

describe('history scan', () => {
  const clean: temporal.api.history.v1.IHistory = {
    events: [{ workflowExecutionStartedEventAttributes: { input: { payloads: [payload({ proposalId: 'p-1' })] } } }],
  };
  test.each([
    [
      'an activity input',
      { activityTaskScheduledEventAttributes: { input: { payloads: [payload({ repo: { token: PLANTED } })] } } },
    ],
    [
      'an activity result',
      { activityTaskCompletedEventAttributes: { result: { payloads: [payload(`token=${PLANTED}`)] } } },
    ],
    [
      'a signal',
      { workflowExecutionSignaledEventAttributes: { signalName: 's', input: { payloads: [payload([PLANTED])] } } },
    ],
    ['a memo', { workflowExecutionStartedEventAttributes: { memo: { fields: { note: payload(PLANTED) } } } }],
    [
      'a search attribute',
      {
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: { ProposalId: payload(PLANTED) } },
        },
      },
    ],
    [
      'a failure detail',
      {
        activityTaskFailedEventAttributes: {
          failure: { message: 'x', applicationFailureInfo: { details: { payloads: [payload({ echoed: PLANTED })] } } },
        },
      },
    ],
  ])('finds a token planted in %s, which a search of the raw history misses', (_where, event) => {
    const history: temporal.api.history.v1.IHistory = { events: [...(clean.events ?? []), { ...event }] };
    expect(JSON.stringify(history)).not.toContain(PLANTED); // bytes: a naive search passes
    const result = scanHistory(history, [PLANTED]);
    expect(result.looked).toBe(2);
    expect(result.hits).toEqual([expect.stringMatching(/^event #2 /)]);
    expect(scanHistory(clean, [PLANTED])).toEqual({ looked: 1, hits: [] });
  });

  test('an empty history looks at nothing, which a test must treat as failure', () => {
    expect(scanHistory({ events: [] }, [PLANTED]).looked).toBe(0);
  });
});

describe('git dir scan', () => {
  test('finds a token inside a loose and a packed object, which a byte search of the files misses', async () => {
    const gitdir = path.join(work, 'repo.git');
    const git = (...args: string[]) =>
      execFileSync('git', ['--git-dir', gitdir, ...args], {
        env: { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      })
        .toString()
        .trim();
    execFileSync('git', ['init', '--quiet', '--bare', gitdir]);
    const blobFile = path.join(work, 'blob.txt');
    await writeFile(blobFile, `{"token":"${PLANTED}"}\n`);
    git('hash-object', '-w', blobFile);
    expect((await scanFiles(gitdir, [PLANTED])).hits).toEqual([]); // zlib: invisible to bytes
    const loose = await scanGitDir(gitdir, [PLANTED]);
    expect(loose.looked).toBeGreaterThan(1);
    expect(loose.hits).toEqual([expect.stringMatching(/^object [0-9a-f]{40}$/)]);
    git('repack', '-a', '-d', '--quiet');
    expect((await scanGitDir(gitdir, [PLANTED])).hits).toHaveLength(1);
  });

  test('finds a token in a plain file of the git dir (config)', async () => {
    const gitdir = path.join(work, 'cfg.git');
    execFileSync('git', ['init', '--quiet', '--bare', gitdir]);
    execFileSync('git', [
      '--git-dir',
      gitdir,
      'config',
      'remote.origin.url',
      `https://x-access-token:${PLANTED}@example.com/a/b`,
    ]);
    expect((await scanGitDir(gitdir, [PLANTED])).hits).toEqual([path.join(gitdir, 'config')]);
  });
});

describe('text scan and the redactor', () => {
  test('a token of no GitHub pattern is caught only through the literal registration', () => {
    const line = `remote said: ${PLANTED} / ${Buffer.from(`x-access-token:${PLANTED}`).toString('base64')}`;
    const unregistered = new Redactor();
    expect(scanTexts({ log: unregistered.redactString(line) }, leakFormsOf(PLANTED, base64Forms)).hits).toEqual([
      'log',
    ]);
    const registered = new Redactor();
    registered.register(PLANTED);
    expect(scanTexts({ log: registered.redactString(line) }, leakFormsOf(PLANTED, base64Forms))).toEqual({
      looked: 1,
      hits: [],
    });
  });
});

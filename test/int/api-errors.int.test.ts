// An unexpected failure (here: a table gone under the API) is a 500 envelope carrying the request
// id and no internals; the operator finds the cause in the log line with the same request id.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';

describe('unexpected errors', () => {
  let h: ApiHarness;
  const lines: string[] = [];
  beforeAll(async () => {
    const logDestination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    h = await startApiHarness({ kind: 'postgres', logDestination });
  });
  afterAll(async () => {
    await h.close();
  });

  test('500 INTERNAL_ERROR with the request id, details only in the log', async () => {
    await h.db.sql.query('ALTER TABLE studies RENAME TO studies_hidden');
    try {
      const res = await h.request('GET', '/api/v1/studies');
      expect(res.status).toBe(500);
      const requestId = res.headers.get('x-request-id');
      expect(res.body).toEqual({
        detail: { error_code: 'INTERNAL_ERROR', message: 'internal error', retryable: true, request_id: requestId },
      });
      expect(JSON.stringify(res.body)).not.toContain('studies');
      const logged = lines
        .map((l) => JSON.parse(l) as { msg: string; requestId?: string; err?: { message?: string } })
        .find((l) => l.msg === 'unhandled error');
      expect(logged?.requestId).toBe(requestId);
      expect(logged?.err?.message).toContain('studies');
      expect(lines.join('\n')).not.toContain(h.apiToken);
    } finally {
      await h.db.sql.query('ALTER TABLE studies_hidden RENAME TO studies');
    }
    expect((await h.request('GET', '/api/v1/studies')).status).toBe(200);
  });
});

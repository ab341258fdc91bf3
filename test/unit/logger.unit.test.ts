import { describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { Redactor } from '../../domain/redact.js';
import { createLogger } from '../../runtime/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  const token = `ghs_${'Zq8'.repeat(13)}`;

  test('every part of a log record is redacted: message, nested fields, error stacks and causes', () => {
    const redactor = new Redactor();
    redactor.register('registered-secret-value');
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', redactor, destination });
    const err = new Error(`clone of https://x-access-token:${token}@github.com/o/r failed`, {
      cause: new Error('auth registered-secret-value'),
    });
    logger.info({ request: { headers: { authorization: `token ${token}` } }, list: [token] }, `pushing with ${token}`);
    logger.error({ err }, 'push failed');
    logger.child({ token }).warn('child bindings too');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain('registered-secret-value');
      expect(line).toContain('[REDACTED-GH-TOKEN]');
      expect(() => JSON.parse(line)).not.toThrow();
    }
    const errorRecord = JSON.parse(lines[1] ?? '{}') as { err: { stack: string; message: string } };
    expect(errorRecord.err.stack).toContain(
      'clone of https://x-access-token:[REDACTED-GH-TOKEN]@github.com/o/r failed',
    );
  });

  test('the level filters records', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'warn', redactor: new Redactor(), destination });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
  });
});

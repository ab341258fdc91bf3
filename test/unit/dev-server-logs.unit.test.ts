// The embedded dev server's output goes through our logger at its own level, except while it is
// being stopped: its shutdown chatter (warn-level "Failed to poll for task") is not news.
import { expect, test } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../runtime/logger.js';
import { Redactor } from '../../domain/redact.js';
import { forwardDevServerLogs } from '../../runtime/dev-server.js';

test('server lines keep their level until the server is being stopped; then all but errors go to debug', async () => {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger({
    level: 'debug',
    redactor: new Redactor(),
    destination: {
      write: (l: string) => {
        lines.push(JSON.parse(l) as { level: number; msg: string });
      },
    },
  });
  const out = new PassThrough();
  let stopping = false;
  forwardDevServerLogs([out, null], logger, () => stopping);
  const say = async (level: string, msg: string) => {
    out.write(`${JSON.stringify({ level, msg, time: '2026-11-25T00:00:00Z' })}\n`);
    await new Promise((resolve) => setImmediate(resolve));
  };
  await say('warn', 'history size warning');
  stopping = true;
  await say('warn', 'Failed to poll for task.');
  await say('info', 'frontend stopping');
  await say('error', 'sqlite: disk I/O error');
  // pino levels: 20 debug, 30 info, 40 warn, 50 error
  expect(lines.map((l) => [l.level, l.msg])).toEqual([
    [40, 'history size warning'],
    [20, 'Failed to poll for task.'],
    [20, 'frontend stopping'],
    [50, 'sqlite: disk I/O error'],
  ]);
});

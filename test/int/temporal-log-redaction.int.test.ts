// docs/architecture.md "Security rules": the Temporal SDK's own log records (worker lifecycle,
// activity and workflow loggers) pass through the same redacting logger as the rest of the service.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Redactor } from '../../domain/redact.js';
import { createLogger } from '../../runtime/logger.js';
import { installTemporalRuntime } from '../../worker/temporal-runtime.js';
import { createLoggingActivities } from '../support/echo-activities.js';
import { startTestTemporal, TEST_NAMESPACE } from '../support/temporal.js';

describe('Temporal SDK logs', () => {
  const token = `ghs_${'Tk7'.repeat(13)}`;
  const lines: string[] = [];
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    installTemporalRuntime(createLogger({ level: 'info', redactor: new Redactor(), destination }));
    env = await startTestTemporal();
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  test('activity and workflow log records are redacted and JSON', async () => {
    const taskQueue = 'log-redaction';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: TEST_NAMESPACE,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/workflows/echo.ts', import.meta.url)),
      activities: createLoggingActivities(),
    });
    await worker.runUntil(
      env.client.workflow.execute('loggingWorkflow', { taskQueue, workflowId: 'log-1', args: [token] }),
    );
    const sdkLines = lines.filter((l) => l.includes('"component":"temporal-sdk"'));
    expect(sdkLines.some((l) => l.includes('activity saw [REDACTED-GH-TOKEN]'))).toBe(true);
    expect(sdkLines.some((l) => l.includes('workflow saw [REDACTED-GH-TOKEN]'))).toBe(true);
    expect(sdkLines.some((l) => l.includes('Worker state changed'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(() => JSON.parse(line)).not.toThrow();
    }
  }, 60_000);
});

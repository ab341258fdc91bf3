// The Temporal harness later issues build on: a real dev server from the installed CLI, a real
// Worker bundling workflow code, and the project's search attributes registered.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startTestTemporal, TEST_NAMESPACE } from '../support/temporal.js';
import { createEchoActivities } from '../support/echo-activities.js';

describe('Temporal dev-server harness', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startTestTemporal();
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  test('runs a workflow and its activity on a real worker, with search attributes', async () => {
    const taskQueue = 'harness';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: TEST_NAMESPACE,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/workflows/echo.ts', import.meta.url)),
      activities: createEchoActivities(),
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('echoWorkflow', { taskQueue, workflowId: 'echo-1', args: ['hello'] }),
    );
    expect(result).toBe(`HELLO from ${TEST_NAMESPACE}`);
    const description = await env.client.workflow.getHandle('echo-1').describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes.OpenPrStep).toEqual(['echo']);
  }, 60_000);
});

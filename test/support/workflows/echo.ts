// Trivial workflows for harness tests.
import { log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { EchoActivities, LoggingActivities } from '../echo-activities.js';

const { shout } = proxyActivities<EchoActivities>({ startToCloseTimeout: '10 seconds' });
const { logIt } = proxyActivities<LoggingActivities>({ startToCloseTimeout: '10 seconds' });

export async function echoWorkflow(text: string): Promise<string> {
  upsertSearchAttributes({ OpenPrStep: ['echo'] });
  return `${await shout(text)} from ${workflowInfo().namespace}`;
}

export async function loggingWorkflow(text: string): Promise<void> {
  log.info(`workflow saw ${text}`);
  await logIt(text);
}

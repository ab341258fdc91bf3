// A throwaway Temporal dev server per test file, started from the installed CLI (never a
// download: `existing-path`), with the project's namespace and search attributes registered, and
// the dynamic config temporal-dev.yaml gives the service's own dev server (one partition, eager
// activities): the tests run the way `npm start` does.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../domain/temporal-contracts.js';
import { dynamicConfigArgs, readDevServerSettings } from '../../runtime/dev-server.js';
import { findTemporalCli } from '../../runtime/temporal-cli.js';

export const TEST_NAMESPACE = 'relyloop';

export async function startTestTemporal(): Promise<TestWorkflowEnvironment> {
  const cli = findTemporalCli(process.env);
  const settings = await readDevServerSettings(new URL('../../temporal-dev.yaml', import.meta.url).pathname);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      namespace: TEST_NAMESPACE,
      ip: '127.0.0.1',
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--log-level', 'error', '--headless', ...dynamicConfigArgs(settings)],
    },
  });
}

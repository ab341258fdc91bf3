// Part of `npm run build`: bundles the compiled workflow code once, into dist/workflow-bundle.js,
// so a production worker loads it instead of running webpack at every start (worker/create-worker.ts
// uses it when it runs from dist/).
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { PREBUILT_WORKFLOW_BUNDLE, WORKFLOWS_PATH } from '../worker/create-worker.js';

const started = performance.now();
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
await writeFile(PREBUILT_WORKFLOW_BUNDLE, code);
process.stdout.write(
  `[build] ${PREBUILT_WORKFLOW_BUNDLE}: ${(code.length / 1024).toFixed(0)} KiB in ${Math.round(performance.now() - started)} ms\n`,
);

// Every workflow the worker registers. The worker bundles this file for Temporal's deterministic
// sandbox, so it (and what it imports) must stay free of I/O (see eslint.config.js).
export { openPrWorkflow } from './open-pr.js';
export { repoLockWorkflow } from './repo-lock.js';
export { reconcilePrStatesWorkflow } from './reconcile-pr-states.js';
export { previewProposalWorkflow } from './preview.js';
export { mergeWhenGreenWorkflow } from './merge-when-green.js';

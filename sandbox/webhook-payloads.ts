// Webhook payloads of the sandbox, shaped as GitHub's: the repository, user and pull request of
// rest-json.ts carry every field GitHub's published webhook schemas require.
import { pullJson, repoJson, type JsonContext } from './rest-json.js';
import type { SandboxPull } from './types.js';

/** A `pull_request` event payload for `action` (opened, closed, reopened). */
export function pullRequestEvent(
  ctx: JsonContext,
  pull: SandboxPull,
  action: string,
  sender: Record<string, unknown>,
): Record<string, unknown> {
  return {
    action,
    number: pull.number,
    pull_request: pullJson(ctx, pull),
    repository: repoJson(ctx),
    sender,
  };
}

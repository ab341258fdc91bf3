// A user's own REST call to the GitHub sandbox (merge a PR, close one, …), with the test token:
// what happens on GitHub outside the service.
import { GH_TOKEN } from './open-pr-harness.js';
import type { GitHubSandbox } from '../../sandbox/index.js';

export async function sandboxRest(
  sandbox: Pick<GitHubSandbox, 'apiBaseUrl'>,
  method: string,
  apiPath: string,
  body?: unknown,
  token = GH_TOKEN,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${sandbox.apiBaseUrl}${apiPath}`, {
    method,
    headers: {
      authorization: `token ${token}`,
      accept: 'application/vnd.github+json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : JSON.parse(text), headers: res.headers };
}

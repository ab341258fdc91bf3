// `npm run gitea`: a real local Gitea to try the service on a second forge: the pinned
// build of scripts/install-gitea.sh, started headless on 127.0.0.1 (port 3000, or the first
// argument) with a user `relyloop`, a repo relyloop/search-config holding a params file, its token
// and a webhook secret written to the secrets dir, and the repo's pull_request webhook pointed at
// the service's API. Its data is temporary: Ctrl-C stops it and removes it.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../domain/config.js';
import { startGitea } from '../sandbox/gitea.js';

const config = loadConfig();
const port = Number(process.argv[2] ?? 3000);
const gitea = await startGitea({ port });
const repo = 'search-config';
await gitea.createRepo(repo);
await gitea.putFile(
  repo,
  'clusters/prod/search.params.json',
  '{\n  "field_boosts.title": 2.0,\n  "field_boosts.body": 1.0,\n  "bm25.k1": 1.2\n}\n',
);

await mkdir(config.secretsDir, { recursive: true, mode: 0o700 });
const tokenFile = path.join(config.secretsDir, 'gitea_token');
await writeFile(tokenFile, `${gitea.token}\n`, { mode: 0o600 });
const webhookSecret = randomBytes(24).toString('hex');
const secretFile = path.join(config.secretsDir, 'gitea_webhook');
await writeFile(secretFile, `${webhookSecret}\n`, { mode: 0o600 });
const apiHost =
  config.apiHost === '0.0.0.0' ? '127.0.0.1' : config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost;
const webhookUrl = `http://${apiHost}:${config.apiPort}/api/v1/webhooks/github`;
const hook = await gitea.request('POST', `/repos/${gitea.user}/${repo}/hooks`, {
  type: 'gitea',
  active: true,
  events: ['pull_request'],
  config: { url: webhookUrl, content_type: 'json', secret: webhookSecret },
});
if (hook.status !== 201) throw new Error(`creating the webhook: ${hook.status} ${JSON.stringify(hook.body)}`);

const host = `127.0.0.1:${port}`;
process.stdout.write(`Gitea on ${gitea.origin} (web UI too) with repo ${gitea.origin}/${gitea.user}/${repo}
token written to ${tokenFile} (auth_ref "gitea_token")
pull_request webhooks go to ${webhookUrl}, signed with the secret in ${secretFile} (webhook_secret_ref "gitea_webhook")

Start the service against it in another terminal:
  RELYLOOP_GITEA_HOSTS=http://${host} npm start

Inspect the result:
  curl -s ${gitea.api}/repos/${gitea.user}/${repo}/pulls -H "Authorization: token $(cat ${tokenFile})"
Merge PR #1 (the service hears of it through the webhook; Gitea answers 405 for a second after a PR opens):
  curl -s -X POST ${gitea.api}/repos/${gitea.user}/${repo}/pulls/1/merge -H "Authorization: token $(cat ${tokenFile})" -H 'Content-Type: application/json' -d '{"Do": "merge"}'
Ctrl-C stops Gitea (its repos are temporary).
`);

const stop = async () => {
  await gitea.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

// `npm run sandbox`: a local stand-in for github.com to try the service end to end (the same
// GitHub sandbox the tests use: real git over HTTP plus the REST calls the service makes). It
// creates the repo acme/search-config with a params file, writes its token and a webhook secret
// to the secrets dir, points the repo's webhook at the service's API (as configured by
// RELYLOOP_API_HOST/PORT), and prints how to start the service against it.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../domain/config.js';
import { startGitHubSandbox } from '../sandbox/index.js';

const config = loadConfig();
const port = Number(process.argv[2] ?? 8787);
const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
await mkdir(config.secretsDir, { recursive: true, mode: 0o700 });
await writeFile(path.join(config.secretsDir, 'sandbox_gh'), `${token}\n`, { mode: 0o600 });
const webhookSecret = randomBytes(24).toString('hex');
await writeFile(path.join(config.secretsDir, 'sandbox_webhook'), `${webhookSecret}\n`, { mode: 0o600 });

const sandbox = await startGitHubSandbox({ port });
await sandbox.createRepo({
  owner: 'acme',
  repo: 'search-config',
  token,
  files: {
    'README.md': '# search config (sandbox)\n',
    'clusters/prod/search.params.json':
      '{\n  "field_boosts.title": 2.0,\n  "field_boosts.body": 1.0,\n  "bm25.k1": 1.2\n}\n',
  },
});

const apiHost =
  config.apiHost === '0.0.0.0' ? '127.0.0.1' : config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost;
const webhookUrl = `http://${apiHost}:${config.apiPort}/api/v1/webhooks/github`;
sandbox.configureWebhook('acme', 'search-config', { url: webhookUrl, secret: webhookSecret });

process.stdout.write(`GitHub sandbox on ${sandbox.origin} with repo ${sandbox.repoUrl('acme', 'search-config')}
token written to ${path.join(config.secretsDir, 'sandbox_gh')} (auth_ref "sandbox_gh")
pull_request webhooks go to ${webhookUrl}, signed with the secret in ${path.join(config.secretsDir, 'sandbox_webhook')} (webhook_secret_ref "sandbox_webhook")

Start the service against it in another terminal:
  RELYLOOP_GITHUB_HOSTS=github.com,http://${sandbox.host} npm start

Inspect the result:
  git clone ${sandbox.gitUrl('acme', 'search-config')}   (user x-access-token, password: the token)
  curl -s ${sandbox.apiBaseUrl}/repos/acme/search-config/pulls -H "Authorization: Bearer $(cat ${path.join(config.secretsDir, 'sandbox_gh')})"
Merge PR #1 (the service hears of it through the webhook):
  curl -s -X PUT ${sandbox.apiBaseUrl}/repos/acme/search-config/pulls/1/merge -H "Authorization: Bearer $(cat ${path.join(config.secretsDir, 'sandbox_gh')})" -d '{}'
Ctrl-C stops the sandbox (its repos are temporary).
`);

const stop = async () => {
  await sandbox.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

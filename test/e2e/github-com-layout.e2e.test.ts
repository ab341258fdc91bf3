// github.com's layout over https: git and web on `{host}`, REST at the root of
// `api.{host}`, a certificate from a CA the worker trusts only through NODE_EXTRA_CA_CERTS — the
// way an operator points the service at GitHub Enterprise Cloud (`{subdomain}.ghe.com`) or a
// private CA. The worker is a real `npm run worker` process; only name resolution is stood in for
// (test/support/loopback-dns.mjs), since no DNS can answer here.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { expectOnePrOpen } from '../support/pr-outcome.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal } from '../support/open-pr-fixtures.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const HOSTNAME = 'relyloop-sandbox.ghe.com';
const LOOPBACK_DNS = fileURLToPath(new URL('../support/loopback-dns.mjs', import.meta.url));

let h: OpenPrHarness;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  h = await startOpenPrHarness({ inProcessWorkers: false, sandbox: { tls: { hostname: HOSTNAME } } });
}, 180_000);
afterAll(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await h?.close();
});

/** Status of a GET to the sandbox under `servername`, or the TLS error code. */
function probe(ca: string | undefined): Promise<string> {
  const port = Number(new URL(h.sandbox.origin).port);
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: HOSTNAME,
        path: '/',
        headers: { host: `${HOSTNAME}:${port}` },
        ...(ca === undefined ? {} : { ca }),
      },
      (res) => {
        res.resume();
        resolve(String(res.statusCode));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

test('the sandbox really speaks https with a certificate only its CA vouches for', async () => {
  expect(h.sandbox.apiBaseUrl).toBe(`https://api.${h.sandbox.host}`);
  expect(await probe(undefined)).toMatch(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
  const { readFile } = await import('node:fs/promises');
  expect(await probe(await readFile(h.sandbox.caFile as string, 'utf8'))).toMatch(/^\d{3}$/);
});

test('a worker trusting the CA opens the PR through api.{host} and pushes to {host}', async () => {
  worker = spawnWorkerProcess(
    {
      ...h.workerEnv(),
      NODE_EXTRA_CA_CERTS: h.sandbox.caFile as string,
      RELYLOOP_TEST_LOOPBACK_HOSTS: h.sandbox.hostnames.join(','),
    },
    { preload: [LOOPBACK_DNS] },
  );
  await worker.ready;
  const s = await seedProposal(h);
  expect(s).toBeDefined();
  const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  expect(res.status).toBe(202);
  expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({
    outcome: 'opened',
    prUrl: `https://${h.sandbox.host}/${OWNER}/${s.repoName}/pull/1`,
  });
  await expectOnePrOpen(h, s);

  const rest = h.sandbox.requests.filter((r) => r.kind === 'rest');
  const git = h.sandbox.requests.filter((r) => r.kind === 'git');
  expect(rest.length).toBeGreaterThan(0);
  expect(git.length).toBeGreaterThan(0);
  // REST at the root of the api host, never the Enterprise path; git on the main host.
  expect(rest.filter((r) => r.headers.host !== `api.${h.sandbox.host}` || r.path.startsWith('/api/v3'))).toEqual([]);
  expect(rest.map((r) => `${r.method} ${r.path}`)).toContain(`POST /repos/${OWNER}/${s.repoName}/pulls`);
  expect(git.filter((r) => r.headers.host !== h.sandbox.host)).toEqual([]);
  expect(h.sandbox.validationFailures).toEqual([]);
  // Production pacing in the worker process: GitHub's limits were never hit.
  expect(h.sandbox.rateLimitRefusals).toEqual({});
}, 180_000);

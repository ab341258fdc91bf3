// Exactly once across a Temporal outage: with runs in flight — one of them waiting on
// GitHub inside step 12 — the Temporal server (the dev server `npm start` runs, on its sqlite file)
// is killed with SIGKILL and restarted a few seconds later on the same file. The workers and the
// client reconnect by themselves; every run completes once, each with exactly one PR.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../domain/config.js';
import { Redactor } from '../../domain/redact.js';
import {
  readDevServerSettings,
  startDevServer,
  type DevServer,
  type DevServerSettings,
} from '../../runtime/dev-server.js';
import { createLogger } from '../../runtime/logger.js';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal, type Seeded } from '../support/open-pr-fixtures.js';
import { expectOnePrOpen } from '../support/pr-outcome.js';
import { freePort } from '../../sandbox/ports.js';
import { TEST_NAMESPACE } from '../support/temporal.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('Temporal server restart mid-run', () => {
  let dir: string;
  let settings: DevServerSettings;
  let server: DevServer;
  let h: OpenPrHarness;
  const start = () =>
    startDevServer({
      cli: findTemporalCli(process.env),
      env: loadConfig().host,
      settings,
      dataDir: dir,
      logger: createLogger({ level: 'silent', redactor: new Redactor() }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relyloop-temporal-restart-'));
    const base = await readDevServerSettings(path.join(ROOT, 'temporal-dev.yaml'));
    settings = {
      ...base,
      namespace: TEST_NAMESPACE,
      port: await freePort(),
      ui_port: await freePort(),
      log_level: 'error',
    };
    server = await start();
    h = await startOpenPrHarness({ temporalAddress: server.address });
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await server?.stop(5_000);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  test('every run in flight completes once, with one PR each', async () => {
    const seeded: Seeded[] = [];
    for (let r = 0; r < 3; r++) {
      const first = await seedProposal(h);
      seeded.push(first, await seedProposal(h, { reuse: first }));
    }
    const [one] = seeded as [Seeded];
    const held = h.sandbox.holdNext({
      method: 'POST',
      path: new RegExp(`^/api/v3/repos/${OWNER}/${one.repoName}/pulls$`),
      when: 'before',
    });
    const posted = await Promise.all(seeded.map((s) => h.api('POST', `/proposals/${s.proposalId}/open_pr`)));
    expect(posted.map((r) => r.status)).toEqual(seeded.map(() => 202));
    await held.reached;

    server.process.kill('SIGKILL');
    await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
    held.release(); // the PR is created while Temporal is down
    await new Promise((r) => setTimeout(r, 3_000));
    const restartedAt = Date.now();
    server = await start();

    const results = await Promise.all(posted.map((r) => h.env.client.workflow.getHandle(r.body.workflow_id).result()));
    process.stdout.write(
      `\n[measure] Temporal restart: ${seeded.length} runs in flight, all closed ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the server was back\n`,
    );
    expect(results.map((r) => (r as { outcome: string }).outcome)).toEqual(seeded.map(() => 'opened'));
    for (const s of seeded) {
      await expectOnePrOpen(h, s);
      const runs = [];
      for await (const w of h.env.client.workflow.list({ query: `ProposalId = '${s.proposalId}'` })) runs.push(w.runId);
      expect(runs).toHaveLength(1);
    }
  }, 240_000);

  test('a data dir started by an older version, lacking a search attribute added since, gets it at the next start', async () => {
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: server.address });
    const names = async () =>
      Object.keys(
        (await connection.operatorService.listSearchAttributes({ namespace: TEST_NAMESPACE })).customAttributes ?? {},
      );
    try {
      await connection.operatorService.removeSearchAttributes({
        namespace: TEST_NAMESPACE,
        searchAttributes: ['OpenPrStepSince'],
      });
      expect(await names()).not.toContain('OpenPrStepSince');
    } finally {
      await connection.close();
    }
    await server.stop(5_000);
    server = await start(); // the same sqlite file: start-dev's --search-attribute does not add it again
    const again = await Connection.connect({ address: server.address });
    try {
      expect(
        (await again.operatorService.listSearchAttributes({ namespace: TEST_NAMESPACE })).customAttributes,
      ).toMatchObject({ OpenPrStepSince: expect.anything(), ProposalId: expect.anything() });
    } finally {
      await again.close();
    }
    // And a run, which sets it at every step, completes.
    const s = await seedProposal(h);
    const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
  }, 180_000);
});

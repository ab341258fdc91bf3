// Metrics an operator alerts on: the API's /metrics (prom-client, bearer token) and a
// worker process's Prometheus endpoint (RELYLOOP_WORKER_METRICS_ADDRESS) with the Temporal SDK's
// metrics and the open-PR workflow's own, after one run that opens a PR and one that fails.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { GH_TOKEN, OWNER, startOpenPrHarness, type OpenPrHarness } from '../support/open-pr-harness.js';
import { seedProposal } from '../support/open-pr-fixtures.js';
import { freePort } from '../../sandbox/ports.js';
import { TEST_NAMESPACE } from '../support/temporal.js';
import { waitUntil } from '../support/wait.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

let h: OpenPrHarness;
let worker: WorkerProcess | undefined;
let workerMetricsUrl: string;

beforeAll(async () => {
  h = await startOpenPrHarness({ inProcessWorkers: false });
  const port = await freePort();
  workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawnWorkerProcess({ ...h.workerEnv(), RELYLOOP_WORKER_METRICS_ADDRESS: `127.0.0.1:${port}` });
  await worker.ready;
}, 180_000);
afterAll(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await h?.close();
});

/** The value of the first sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** `promtool check metrics` on a scrape: its findings (none when clean). */
function promtoolCheckMetrics(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve(`${stdout}${stderr}`.trim());
    });
    child.stdin?.end(text);
  });
}

/** Both endpoints pass promtool's lint, and carry every series the alert rules read. */
async function expectPrometheusConventions(workerText: string, apiText: string): Promise<void> {
  const findings = { worker: await promtoolCheckMetrics(workerText), api: await promtoolCheckMetrics(apiText) };
  expect(findings).toEqual({ worker: '', api: '' });
  const rules = await readFile(new URL('../../ops/prometheus/alerts.yml', import.meta.url), 'utf8');
  const read = new Set([...rules.matchAll(/\b(relyloop_[a-z_]+)/g)].map((m) => m[1] as string));
  const exported = new Set(
    `${workerText}\n${apiText}`
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2] as string),
  );
  const missing = [...read].filter((name) => !exported.has(name) && !exported.has(name.replace(/_bucket$/, '')));
  expect(missing).toEqual([]);
}

test('after a PR and a failure, both endpoints show them', async () => {
  const ok = await seedProposal(h);
  const bad = await seedProposal(h, { declaredParams: ['field_boosts.title'] });
  const [okRes, badRes] = [
    await h.api('POST', `/proposals/${ok.proposalId}/open_pr`),
    await h.api('POST', `/proposals/${bad.proposalId}/open_pr`),
  ];
  expect(await h.env.client.workflow.getHandle(okRes.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
  await expect(h.env.client.workflow.getHandle(badRes.body.workflow_id).result()).rejects.toThrow();
  expect(h.sandbox.pulls(OWNER, ok.repoName)).toHaveLength(1);

  // The worker: the workflow's own metrics next to the SDK's. The exporter reads its counters on
  // each scrape; poll until this run's have arrived.
  let text = '';
  await waitUntil(
    'the worker exports the runs',
    async () => {
      text = await (await fetch(workerMetricsUrl)).text();
      return sample(text, 'relyloop_open_pr_runs_total', { outcome: 'failed', code: 'PARAM_NOT_IN_TEMPLATE' }) === 1;
    },
    30_000,
    () => text.slice(0, 3000),
  );
  expect(sample(text, 'relyloop_open_pr_runs_total', { outcome: 'opened', code: 'none' })).toBe(1);
  expect(sample(text, 'relyloop_open_pr_step_duration_seconds_count', { step: 'open_pr', status: 'completed' })).toBe(
    1,
  );
  expect(sample(text, 'relyloop_open_pr_step_duration_seconds_count', { step: 'apply_diff', status: 'failed' })).toBe(
    1,
  );
  expect(sample(text, 'relyloop_open_pr_step_duration_seconds_count', { step: 'lock', status: 'completed' })).toBe(2);
  // Buckets reach the durations the alerts name (a lock wait over 10 minutes has its own).
  expect(
    sample(text, 'relyloop_open_pr_step_duration_seconds_bucket', { step: 'lock', status: 'completed', le: '900' }),
  ).toBe(2);
  // Series an alert reads exist at 0 before their first event.
  expect(sample(text, 'relyloop_open_pr_runs_total', { outcome: 'failed', code: 'CLONE_FAILED' })).toBe(0);
  expect(sample(text, 'relyloop_reconcile_runs_total', { scope: 'scheduled', outcome: 'partial' })).toBe(0);
  expect(sample(text, 'relyloop_activity_retries_total', { activity: 'pushBranch' })).toBe(0);
  // The SDK's series name this process's git queue as every process does.
  expect(text).toMatch(/task_queue="[^"]+\/git"/);
  expect(text).not.toMatch(/="[^"]*\/git\/[^"]*"/);
  expect(text).toMatch(/^temporal_workflow_completed_total\{/m);
  expect(text).toMatch(/^temporal_activity_execution_latency_seconds_bucket\{/m);

  // The API: bearer token required, like every route but /healthz.
  expect((await fetch(`${h.apiUrl}/metrics`)).status).toBe(401);
  const api = await fetch(`${h.apiUrl}/metrics`, { headers: { authorization: `Bearer ${h.apiToken}` } });
  expect(api.headers.get('content-type')).toMatch(/^text\/plain/);
  const apiText = await api.text();
  expect(sample(apiText, 'relyloop_proposals', { status: 'pr_opened' })).toBe(1);
  expect(sample(apiText, 'relyloop_proposals', { status: 'pending' })).toBe(1);
  expect(sample(apiText, 'relyloop_proposals_failed', { code: 'PARAM_NOT_IN_TEMPLATE' })).toBe(1);
  expect(
    sample(apiText, 'relyloop_http_requests_total', {
      method: 'POST',
      route: '/api/v1/proposals/:id/open_pr',
      status: '202',
    }),
  ).toBe(2);
  expect(sample(apiText, 'relyloop_api_process_resident_memory_bytes')).toBeGreaterThan(0);
  expect(sample(apiText, 'relyloop_proposals', { status: 'pr_merged' })).toBe(0);
  expect(sample(apiText, 'relyloop_proposals_failed', { code: 'LOCK_LOST' })).toBe(0);
  expect(sample(apiText, 'relyloop_repo_lock_waiting', { config_repo_id: ok.configRepoId })).toBe(0);
  expect(sample(apiText, 'relyloop_open_pr_step_oldest_seconds', { step: 'lock' })).toBe(0);
  await expectPrometheusConventions(text, apiText);
}, 180_000);

test('the lock queue, the runs in flight per step, and redacted secrets', async () => {
  const holder = await seedProposal(h);
  const waiter = await seedProposal(h, { reuse: holder });
  const held = h.sandbox.holdNext({
    method: 'POST',
    path: new RegExp(`/repos/${OWNER}/${holder.repoName}/pulls$`),
    when: 'before',
  });
  const first = await h.api('POST', `/proposals/${holder.proposalId}/open_pr`);
  await held.reached;
  const second = await h.api('POST', `/proposals/${waiter.proposalId}/open_pr`);
  const scrape = async () =>
    (await fetch(`${h.apiUrl}/metrics`, { headers: { authorization: `Bearer ${h.apiToken}` } })).text();
  let apiText = '';
  // Visibility is eventually consistent: poll until the waiting run is listed at its step.
  await waitUntil(
    'the API lists the waiting run',
    async () => {
      apiText = await scrape();
      return sample(apiText, 'relyloop_repo_lock_waiting', { config_repo_id: holder.configRepoId }) === 1;
    },
    30_000,
    () =>
      apiText
        .split('\n')
        .filter((l) => l.startsWith('relyloop_open_pr_runs_running') || l.startsWith('relyloop_repo_lock'))
        .join('\n'),
  );
  expect(sample(apiText, 'relyloop_open_pr_runs_running', { step: 'open_pr' })).toBe(1);
  expect(sample(apiText, 'relyloop_open_pr_runs_running', { step: 'lock' })).toBe(1);
  expect(sample(apiText, 'relyloop_temporal_visibility_up')).toBe(1);
  // The wait that has not ended is visible, and grows.
  const waited =
    sample(apiText, 'relyloop_repo_lock_oldest_wait_seconds', { config_repo_id: holder.configRepoId }) ?? 0;
  expect(waited).toBeGreaterThan(0);
  expect(sample(apiText, 'relyloop_open_pr_step_oldest_seconds', { step: 'lock' })).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect(
    sample(await scrape(), 'relyloop_repo_lock_oldest_wait_seconds', { config_repo_id: holder.configRepoId }),
  ).toBeGreaterThan(waited);
  held.release();
  for (const res of [first, second])
    expect(await h.env.client.workflow.getHandle(res.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
  await waitUntil(
    'no run in flight',
    async () => sample(await scrape(), 'relyloop_repo_lock_waiting', { config_repo_id: holder.configRepoId }) === 0,
    30_000,
  );
  expect(
    sample(await scrape(), 'relyloop_repo_lock_oldest_wait_seconds', { config_repo_id: holder.configRepoId }),
  ).toBe(0);

  // GitHub echoes the token in an error: the worker redacts it and counts it.
  const echoed = await seedProposal(h);
  h.sandbox.injectFaults({
    method: 'POST',
    path: new RegExp(`/repos/${OWNER}/${echoed.repoName}/pulls$`),
    faults: [{ status: 422, body: { message: `Validation Failed: head ${GH_TOKEN} is not a branch` } }],
  });
  const failed = await h.api('POST', `/proposals/${echoed.proposalId}/open_pr`);
  await expect(h.env.client.workflow.getHandle(failed.body.workflow_id).result()).rejects.toThrow();
  let workerText = '';
  await waitUntil(
    'the worker counts the redaction',
    async () => {
      workerText = await (await fetch(workerMetricsUrl)).text();
      return (
        (sample(workerText, 'relyloop_redacted_secrets_total', { kind: 'secret' }) ?? 0) +
          (sample(workerText, 'relyloop_redacted_secrets_total', { kind: 'token_pattern' }) ?? 0) >=
        1
      );
    },
    30_000,
    () =>
      workerText
        .split('\n')
        .filter((l) => l.includes('redacted'))
        .join('\n'),
  );
  expect(sample(await scrape(), 'relyloop_redacted_secrets_total', { kind: 'secret' })).toBeGreaterThanOrEqual(0);
}, 180_000);

test("a reset that re-runs a run's last task counts its PR once", async () => {
  const scrapeWorker = async () => (await fetch(workerMetricsUrl)).text();
  const opened = async () =>
    sample(await scrapeWorker(), 'relyloop_open_pr_runs_total', { outcome: 'opened', code: 'none' }) ?? 0;
  const s = await seedProposal(h);
  const res = await h.api('POST', `/proposals/${s.proposalId}/open_pr`);
  const handle = h.env.client.workflow.getHandle(res.body.workflow_id);
  expect(await handle.result()).toMatchObject({ outcome: 'opened' });
  let before = 0;
  await waitUntil('the worker counts the PR', async () => (before = await opened()) >= 1, 30_000);

  // Reset to the run's last workflow task: it re-runs the task that recorded the PR.
  const events = (await handle.fetchHistory()).events ?? [];
  const last = [...events].reverse().find((e) => e.workflowTaskCompletedEventAttributes);
  const { runId } = await h.env.client.workflowService.resetWorkflowExecution({
    namespace: TEST_NAMESPACE,
    workflowExecution: { workflowId: res.body.workflow_id, runId: (await handle.describe()).runId },
    reason: 'test: reset to the last workflow task',
    workflowTaskFinishEventId: last?.eventId as never,
    requestId: randomUUID(),
  });
  expect(await h.env.client.workflow.getHandle(res.body.workflow_id, runId as string).result()).toMatchObject({
    outcome: 'opened',
  });
  // The reset run's completion reaches the exporter with the next workflow task of any run.
  const other = await seedProposal(h, { study: false });
  const next = await h.api('POST', `/proposals/${other.proposalId}/open_pr`);
  expect(await h.env.client.workflow.getHandle(next.body.workflow_id).result()).toMatchObject({ outcome: 'opened' });
  await waitUntil('the worker counts the second PR', async () => (await opened()) === before + 1, 30_000);
  expect(h.sandbox.pulls(OWNER, s.repoName)).toHaveLength(1);
}, 180_000);

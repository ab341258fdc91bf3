// The alert rules operators load (ops/prometheus/alerts.yml), checked by Prometheus's own tool:
// `promtool check rules`, and `promtool test rules` firing each alert on a synthetic series that
// should fire it and keeping it quiet on one that should not. The series they read are
// checked against a real scrape in test/e2e/metrics.e2e.test.ts.
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STEP_DURATION_BUCKETS } from '../../runtime/worker-metrics.js';

const DIR = fileURLToPath(new URL('../../ops/prometheus/', import.meta.url));

function promtool(args: string[], cwd = DIR): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe('ops/prometheus/alerts.yml', () => {
  test('promtool check rules: valid', async () => {
    const checked = await promtool(['check', 'rules', 'alerts.yml']);
    expect(checked).toMatchObject({ code: 0, output: expect.stringContaining('SUCCESS: 12 rules found') });
  });

  test('promtool test rules: every alert fires when it should and only then', async () => {
    const tested = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(tested).toMatchObject({ code: 0, output: expect.stringContaining('SUCCESS') });
    // Every alert has a case.
    const rules = await readFile(path.join(DIR, 'alerts.yml'), 'utf8');
    const cases = await readFile(path.join(DIR, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts).toHaveLength(12);
    for (const alert of alerts) expect(cases).toContain(`alertname: ${alert}`);
  });

  test('the synthetic histograms use the buckets the worker exports', async () => {
    const cases = await readFile(path.join(DIR, 'alerts.test.yml'), 'utf8');
    const used = new Set([...cases.matchAll(/le="([^"]+)"/g)].map((m) => m[1]));
    expect([...used].filter((le) => le !== '+Inf' && !STEP_DURATION_BUCKETS.includes(Number(le)))).toEqual([]);
    expect(used).toContain('900');
  });

  test('the cases can fail: a lock-wait alert at 100 minutes misses the 15-minute waits', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'alerts-'));
    try {
      const rules = await readFile(path.join(DIR, 'alerts.yml'), 'utf8');
      await writeFile(path.join(dir, 'alerts.yml'), rules.replace('[30m]))) > 600', '[30m]))) > 6000'));
      await writeFile(path.join(dir, 'alerts.test.yml'), await readFile(path.join(DIR, 'alerts.test.yml'), 'utf8'));
      const tested = await promtool(['test', 'rules', 'alerts.test.yml'], dir);
      expect(tested.code).not.toBe(0);
      expect(tested.output).toContain('alertname: RelyloopRepoLockWaitP95High');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

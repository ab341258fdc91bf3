// Rendered charts wait in the chart dir for their run's commit step; a day-old one belongs to a
// finished run and is removed, by a sweep that runs at most every CHART_SWEEP_INTERVAL_MS.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHART_MAX_AGE_MS, CHART_SWEEP_INTERVAL_MS, createGitActivities } from '../../activities/git/git-activities.js';
import { createAppTokenSource } from '../../adapters/github/app-tokens.js';
import { createGitRepoCache } from '../../adapters/git/repo-cache.js';
import { tryRenderChart } from '../../activities/chart/render-chart.js';
import { createMemoryGitHubPacer, GITHUB_PACING_RULES } from '../../domain/github-pacing.js';
import { Redactor } from '../../domain/redact.js';

let root: string;
let png: Buffer;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'chart-sweep-'));
  const chart = await tryRenderChart({ 'bm25.k1': 0.6, fuzziness: 0.4 });
  if (!chart.ok) throw new Error(chart.reason);
  png = chart.png;
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('day-old charts are swept at a render, at most once per interval; newer ones stay', async () => {
  const chartDir = path.join(root, '.charts');
  await mkdir(chartDir, { recursive: true });
  const T = Date.now();
  let now = T;
  const redactor = new Redactor();
  const git = createGitActivities({
    secretsDir: root,
    redactor,
    hostPolicies: { github: { hosts: [] }, gitea: { hosts: [] } },
    appTokens: createAppTokenSource({ redactor }),
    cache: createGitRepoCache({ cacheDir: root, redactor, author: { name: 'b', email: 'b@example.com' } }),
    chartDir,
    github: { pacer: createMemoryGitHubPacer({ ...GITHUB_PACING_RULES, writeGapMs: 0 }) },
    // The chart is drawn once above; what is tested here is where it waits.
    renderChart: async () => ({ ok: true, png }),
    now: () => now,
  });
  const chartAged = async (name: string, ageMs: number) => {
    const file = path.join(chartDir, name);
    await writeFile(file, png);
    const at = new Date(T - ageMs);
    await utimes(file, at, at);
  };
  const render = async () => {
    const proposalId = randomUUID();
    expect(await git.renderChart({ proposalId, importance: { a: 1 } })).toEqual({
      ok: true,
      chartPath: path.join(chartDir, `${proposalId}.png`),
    });
    return `${proposalId}.png`;
  };
  const charts = async () => (await readdir(chartDir)).sort();

  await chartAged('old.png', CHART_MAX_AGE_MS + 60_000);
  await chartAged('recent.png', 3600_000);
  const first = await render();
  expect(await charts()).toEqual([first, 'recent.png'].sort());

  // Within the interval: no sweep, the old chart stays until the next one.
  await chartAged('old-2.png', CHART_MAX_AGE_MS + 60_000);
  now = T + CHART_SWEEP_INTERVAL_MS - 1;
  const second = await render();
  expect(await charts()).toEqual([first, second, 'old-2.png', 'recent.png'].sort());
  now = T + CHART_SWEEP_INTERVAL_MS;
  const third = await render();
  expect(await charts()).toEqual([first, second, third, 'recent.png'].sort());
}, 60_000);

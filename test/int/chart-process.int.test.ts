// The chart renderer process (activities/chart/chart-process.ts): the PNG the worker would have
// drawn itself, a process that ends when idle and comes back, and a lost process that fails the
// attempt (Temporal retries it) instead of passing for a chart that cannot be drawn.
import { afterEach, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createChartProcess, type ChartRenderer } from '../../activities/chart/chart-process.js';
import { tryRenderChart } from '../../activities/chart/render-chart.js';
import { waitUntil } from '../support/wait.js';

const IMPORTANCE = { 'field_boosts.title': 0.61, 'bm25.k1': 0.27, 'field_boosts.body': 0.12 };
/** Another study's importances (a chart not drawn yet). */
const other = (n: number) => ({ 'field_boosts.title': 0.5 + n / 100, 'bm25.k1': 0.3 });
let renderer: ChartRenderer | undefined;
afterEach(async () => {
  await renderer?.close();
});

/** Whether a process runs `chart-child` (a pid read from the renderer). */
function isChartProcess(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chart-child');
  } catch {
    return false;
  }
}

describe('chart renderer process', () => {
  test('draws the PNG the worker would draw itself, byte for byte; refuses bad data with a reason', async () => {
    renderer = createChartProcess();
    const [own, inProcess] = [await renderer.render(IMPORTANCE), await tryRenderChart(IMPORTANCE)];
    expect(own.ok && inProcess.ok).toBe(true);
    if (!own.ok || !inProcess.ok) return;
    expect(Buffer.isBuffer(own.png)).toBe(true);
    expect(own.png.equals(inProcess.png)).toBe(true);
    expect(own.png.subarray(0, 8)).toEqual(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'));
    expect(await renderer.render({ 'bm25.k1': Number.NaN })).toEqual({
      ok: false,
      reason: 'importance of "bm25.k1" is not a finite number',
    });
    expect(isChartProcess(renderer.pid())).toBe(true);
  }, 60_000);

  test('ends when idle, and the next chart starts it again', async () => {
    renderer = createChartProcess({ idleMs: 200 });
    expect((await renderer.render(IMPORTANCE)).ok).toBe(true);
    const first = renderer.pid();
    expect(isChartProcess(first)).toBe(true);
    await waitUntil(
      'the idle renderer exited',
      async () => !isChartProcess(first) && renderer?.pid() === undefined,
      10_000,
    );
    expect((await renderer.render(other(1))).ok).toBe(true);
    expect(isChartProcess(renderer.pid())).toBe(true);
    expect(renderer.pid()).not.toBe(first);
  }, 60_000);

  test('a renderer killed mid-chart fails that chart (the step retries); the next chart gets a new one', async () => {
    renderer = createChartProcess();
    expect((await renderer.render(IMPORTANCE)).ok).toBe(true);
    const pid = renderer.pid();
    expect(isChartProcess(pid)).toBe(true);
    const drawing = renderer.render(other(2));
    process.kill(pid!, 'SIGKILL');
    await expect(drawing).rejects.toThrow(/chart renderer process/);
    expect((await renderer.render(other(2))).ok).toBe(true);
  }, 60_000);

  test("a study's chart is drawn once: the next proposal of the study gets the same bytes without a renderer", async () => {
    renderer = createChartProcess();
    const first = await renderer.render(IMPORTANCE);
    await renderer.close();
    expect(renderer.pid()).toBeUndefined();
    const again = await renderer.render({ ...IMPORTANCE });
    expect(renderer.pid()).toBeUndefined(); // nothing was started for it
    expect(first.ok && again.ok && again.png.equals(first.png)).toBe(true);
  }, 60_000);
});

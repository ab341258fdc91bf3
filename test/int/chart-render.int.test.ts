// Renders the importance chart for real (vega + node-canvas) and decodes the PNG.
import { describe, test, expect } from '@jest/globals';
import { loadImage, createCanvas } from 'canvas';
import { tryRenderChart } from '../../activities/chart/render-chart.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../../domain/chart-spec.js';

const IMPORTANCE = { 'field_boosts.title': 0.42, 'bm25.k1': 0.31, fuzziness: 0.12, 'field_boosts.body': 0.08 };

describe('tryRenderChart', () => {
  test.each([
    ['four parameters', IMPORTANCE],
    ['one parameter', { 'bm25.k1': 1 }],
    [
      'forty long-named parameters',
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field_boosts.a_rather_long_field_name_${i}`, i / 40])),
    ],
  ])('%s: a PNG of exactly 800×600 with drawn content', async (_name, importance) => {
    const result = await tryRenderChart(importance);
    if (!result.ok) throw new Error(result.reason);
    expect(result.png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const image = await loadImage(result.png);
    expect([image.width, image.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    // Not a blank image: some pixels are the bar colour (#4c78a8).
    const canvas = createCanvas(image.width, image.height);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    let barPixels = 0;
    for (let i = 0; i < data.length; i += 4)
      if (data[i] === 0x4c && data[i + 1] === 0x78 && data[i + 2] === 0xa8) barPixels++;
    expect(barPixels).toBeGreaterThan(1000);
  });

  test.each([
    ['no importances', {}, 'no parameter importances'],
    ['NaN', { 'bm25.k1': Number.NaN }, 'not a finite number'],
    ['Infinity', { 'bm25.k1': 0.5, fuzziness: Number.POSITIVE_INFINITY }, '"fuzziness"'],
  ])('invalid data (%s) yields a reason instead of a PNG', async (_name, importance, reason) => {
    expect(await tryRenderChart(importance)).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });

  test('a renderer that throws yields a reason, never an exception', async () => {
    const result = await tryRenderChart(IMPORTANCE, {
      renderer: () => Promise.reject(new Error('canvas backend missing')),
    });
    expect(result).toEqual({ ok: false, reason: 'chart rendering failed: canvas backend missing' });
  });
});

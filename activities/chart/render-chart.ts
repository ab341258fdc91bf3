// Renders the importance chart to PNG: Vega-Lite compile → Vega View (headless) → node-canvas
// (docs/architecture.md "The open-PR workflow" step 9). A failure is not fatal for the workflow, so
// this never throws: the caller falls back to a Markdown table of the importances.
import type { Canvas } from 'canvas';
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import { createImportanceChartSpec } from '../../domain/chart-spec.js';

/**
 * Vega, Vega-Lite and node-canvas are loaded on the first chart, not at start-up: they are 47 MB
 * resident and 0.4 s to load, which an idle service need not carry. The first PR with a
 * chart pays the 0.4 s once.
 */
let libraries: Promise<{ vega: typeof Vega; compile: typeof VegaLite.compile }> | undefined;
const loadChartLibraries = () =>
  (libraries ??= (async () => {
    // One after the other: they share modules (jest's ESM loader fails on two concurrent imports of them).
    const vega = await import('vega');
    const { compile } = await import('vega-lite');
    return { vega, compile };
  })().catch((error: unknown) => {
    libraries = undefined; // the next chart tries again
    throw error;
  }));

export type ChartResult = { ok: true; png: Buffer } | { ok: false; reason: string };

/** Turns a compiled Vega spec into a PNG; replaceable so a test can force a renderer failure. */
export type VegaRenderer = (spec: Vega.Spec) => Promise<Buffer>;

export const renderWithNodeCanvas: VegaRenderer = async (spec) => {
  const { vega } = await loadChartLibraries();
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    // Under Node, vega draws on a node-canvas Canvas although its type says HTMLCanvasElement.
    const canvas = (await view.toCanvas()) as unknown as Canvas;
    return canvas.toBuffer('image/png');
  } finally {
    view.finalize();
  }
};

function dataProblem(importance: Readonly<Record<string, number>>): string | undefined {
  const entries = Object.entries(importance);
  if (entries.length === 0) return 'no parameter importances to chart';
  const bad = entries.find(([, v]) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad !== undefined) return `importance of ${JSON.stringify(bad[0])} is not a finite number`;
  return undefined;
}

export interface RenderChartOptions {
  renderer?: VegaRenderer;
}

export async function tryRenderChart(
  importance: Readonly<Record<string, number>>,
  options: RenderChartOptions = {},
): Promise<ChartResult> {
  const problem = dataProblem(importance);
  if (problem !== undefined) return { ok: false, reason: problem };
  try {
    const { compile } = await loadChartLibraries();
    const { spec } = compile(createImportanceChartSpec(importance));
    const png = await (options.renderer ?? renderWithNodeCanvas)(spec);
    return { ok: true, png };
  } catch (error) {
    return { ok: false, reason: `chart rendering failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

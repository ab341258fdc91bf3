// Renders the importance chart to PNG: Vega-Lite compile → Vega View (headless) → node-canvas
// (SPEC §2, §5 step 9). A failure is not fatal for the workflow, so this never throws: the caller
// falls back to a Markdown table of the importances.
import type { Canvas } from 'canvas';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { createImportanceChartSpec } from '../../domain/chart-spec.js';

export type ChartResult = { ok: true; png: Buffer } | { ok: false; reason: string };

/** Turns a compiled Vega spec into a PNG; replaceable so a test can force a renderer failure. */
export type VegaRenderer = (spec: vega.Spec) => Promise<Buffer>;

export const renderWithNodeCanvas: VegaRenderer = async (spec) => {
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

export async function tryRenderChart(importance: Readonly<Record<string, number>>, options: RenderChartOptions = {}): Promise<ChartResult> {
  const problem = dataProblem(importance);
  if (problem !== undefined) return { ok: false, reason: problem };
  try {
    const { spec } = compile(createImportanceChartSpec(importance));
    const png = await (options.renderer ?? renderWithNodeCanvas)(spec);
    return { ok: true, png };
  } catch (error) {
    return { ok: false, reason: `chart rendering failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

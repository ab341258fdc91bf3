// Vega-Lite spec of the parameter-importance chart (docs/architecture.md "The open-PR workflow"
// step 9): 800×600 PNG, horizontal bars sorted descending, title "Parameter importance". Pure, so
// it is snapshot-tested; the renderer lives in activities/chart.
import type { TopLevelSpec } from 'vega-lite';

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 600;
export const CHART_TITLE = 'Parameter importance';

export interface ImportanceRow {
  param: string;
  importance: number;
}

/** Rows sorted by importance descending, ties by name, so output is deterministic. */
export function sortImportance(importance: Readonly<Record<string, number>>): ImportanceRow[] {
  return Object.entries(importance)
    .map(([param, value]) => ({ param, importance: value }))
    .sort((a, b) => b.importance - a.importance || (a.param < b.param ? -1 : a.param > b.param ? 1 : 0));
}

export function createImportanceChartSpec(importance: Readonly<Record<string, number>>): TopLevelSpec {
  const rows = sortImportance(importance);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: CHART_TITLE, fontSize: 20, anchor: 'start' },
    // `fit` + `contains: padding` makes the whole image, axes and title included, exactly the
    // declared size; the default `pad` would grow it by the axis labels.
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    autosize: { type: 'fit', contains: 'padding' },
    padding: 16,
    background: 'white',
    data: { values: rows },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      // Rows are pre-sorted; `sort: null` keeps that order (descending, ties by name).
      y: { field: 'param', type: 'nominal', sort: null, title: 'Parameter', axis: { labelLimit: 260 } },
      x: { field: 'importance', type: 'quantitative', title: 'Importance' },
      tooltip: [{ field: 'param' }, { field: 'importance', format: '.3f' }],
    },
    config: { font: 'sans-serif', axis: { labelFontSize: 12, titleFontSize: 14 } },
  };
}

// The chart renderer's own process (chart-process.ts): renders each chart it is sent with
// tryRenderChart and answers on the IPC channel. It exits with its parent (the channel closes).
import { tryRenderChart } from './render-chart.js';
import type { ChartRequest, ChartResponse } from './chart-process.js';

process.on('message', (message: ChartRequest) => {
  void tryRenderChart(message.importance).then((result) =>
    process.send?.({ id: message.id, result } satisfies ChartResponse),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: { ok: false, reason: 'ready' } } satisfies ChartResponse);

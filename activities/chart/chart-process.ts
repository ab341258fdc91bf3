// Charts are rendered in a child process of the worker (chart-child.ts), started with the first
// chart and ended after a minute without one. Vega and node-canvas draw synchronously: in the
// worker's own thread a chart held up every other step running there (a sync's fetch took twice
// as long beside it), and their ≈ 50 MB (more under load) stayed in the service for good. The
// child draws on the other core and gives its memory back when idle. node-canvas cannot be loaded
// again by a worker thread after one that loaded it ended (it crashes the process): a process it is.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChartResult } from './render-chart.js';

export interface ChartRequest {
  id: number;
  importance: Readonly<Record<string, number>>;
}
export interface ChartResponse {
  id: number;
  result: ChartResult;
}

export interface ChartRenderer {
  /** The chart, or why it could not be drawn; throws only when the renderer process was lost. */
  render(importance: Readonly<Record<string, number>>): Promise<ChartResult>;
  /** The renderer process's pid while it runs. */
  pid(): number | undefined;
  close(): Promise<void>;
}

export const CHART_PROCESS_IDLE_MS = 60_000;
/** Charts kept, by their importances: every proposal of a study shares its chart. ≈ 20 KB each. */
export const CHART_CACHE_ENTRIES = 32;

export function createChartProcess(opts: { idleMs?: number } = {}): ChartRenderer {
  const idleMs = opts.idleMs ?? CHART_PROCESS_IDLE_MS;
  let child: { process: ChildProcess; ready: Promise<void> } | undefined;
  const pending = new Map<number, { resolve: (r: ChartResult) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let idleTimer: NodeJS.Timeout | undefined;
  // The PNG is a function of the importances, in their order: drawn once per study, not per proposal.
  const drawn = new Map<string, Buffer>();

  function start(): NonNullable<typeof child> {
    // From the compiled runtime a .js file; from the sources (tests, tsx) the .ts one, through tsx.
    const self = fileURLToPath(import.meta.url);
    const fromSource = self.endsWith('.ts');
    const proc = fork(self.replace(/chart-process\.(ts|js)$/, `chart-child.$1`), [], {
      serialization: 'advanced', // the PNG crosses as bytes, not as JSON
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    proc.on('message', ({ id, result }: ChartResponse) => {
      if (id === 0) return markReady();
      // The bytes arrive as a Uint8Array: a Buffer again, as tryRenderChart answers.
      const png = result.ok ? result.png : undefined;
      pending
        .get(id)
        ?.resolve(
          png === undefined ? result : { ok: true, png: Buffer.from(png.buffer, png.byteOffset, png.byteLength) },
        );
      pending.delete(id);
      if (pending.size === 0) armIdle();
    });
    proc.once('exit', (code, signal) => {
      if (child?.process === proc) child = undefined;
      const lost = new Error(`the chart renderer process exited (${signal ?? code}) before it answered`);
      markReady();
      for (const [id, p] of pending) {
        p.reject(lost);
        pending.delete(id);
      }
    });
    // The worker may exit without waiting for it; the child then exits on its own (disconnect).
    proc.unref();
    proc.channel?.unref();
    return { process: proc, ready };
  }

  function armIdle(): void {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (pending.size === 0) child?.process.disconnect();
    }, idleMs);
    idleTimer.unref();
  }

  async function draw(importance: Readonly<Record<string, number>>): Promise<ChartResult> {
    clearTimeout(idleTimer);
    child ??= start();
    const { process: proc, ready } = child;
    const id = nextId++;
    const answer = new Promise<ChartResult>((resolve, reject) => pending.set(id, { resolve, reject }));
    // While requests wait for their answer the channel keeps the worker alive.
    proc.channel?.ref();
    try {
      await ready;
      try {
        proc.send({ id, importance } satisfies ChartRequest);
      } catch (error) {
        pending.delete(id);
        throw new Error('the chart renderer process is gone', { cause: error });
      }
      return await answer;
    } finally {
      if (pending.size === 0) proc.channel?.unref();
    }
  }

  return {
    async render(importance) {
      const key = JSON.stringify(Object.entries(importance));
      const kept = drawn.get(key);
      if (kept !== undefined) {
        drawn.delete(key); // most recently used last
        drawn.set(key, kept);
        return { ok: true, png: kept };
      }
      const result = await draw(importance);
      if (result.ok) {
        drawn.set(key, result.png);
        if (drawn.size > CHART_CACHE_ENTRIES) drawn.delete(drawn.keys().next().value as string);
      }
      return result;
    },
    pid: () => child?.process.pid,
    async close() {
      clearTimeout(idleTimer);
      const proc = child?.process;
      if (proc === undefined || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.disconnect();
      await exited;
    },
  };
}

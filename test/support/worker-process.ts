// A worker as an operator runs it: `npm run worker` (worker/main.ts) in its own process, against
// the test's PostgreSQL and Temporal, with production settings (GitHub pacing included). Tests kill
// it with SIGKILL (a crash) or SIGTERM (a rolling restart) and read what it logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote (JSON log lines and stderr). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once both its workers poll. */
  ready: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** `preload`: modules run before the worker (`node --import`), e.g. test/support/loopback-dns.ts. */
export function spawnWorkerProcess(env: Record<string, string>, opts: { preload?: string[] } = {}): WorkerProcess {
  let out = '';
  // Only what the worker needs: PATH/HOME and the service settings (no test-runner variables).
  // Node itself with tsx's loader: one process, so a signal reaches the worker and not a wrapper.
  const preloads = (opts.preload ?? []).flatMap((p) => ['--import', p]);
  const child = spawn(process.execPath, ['--import', 'tsx', ...preloads, 'worker/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = waitUntil(
    `worker ${child.pid} polling`,
    () => out.includes('"msg":"workers polling"'),
    60_000,
    () => out,
  );
  return {
    child,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    ready,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

// Ports for child processes that cannot bind port 0 themselves (the Temporal dev server, the
// launcher). A port found free by binding port 0 and closing it is an ephemeral port: any other
// process's next connection or `listen(0)` may take it before the child binds it. So these come
// from below the kernel's ephemeral range (which `listen(0)` and outgoing connections never use),
// and each is claimed with an exclusive lock file, so two test processes never pick the same one.
import { mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const LOCK_DIR = path.join(tmpdir(), 'relyloop-pr-test-ports');
const FIRST = 20_000;
const COUNT = 10_000;
const claimed = new Set<string>();

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isFinite(low) && Number.isFinite(high)) return [low, high];
  } catch {
    /* not Linux */
  }
  return [32_768, 60_999];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 reserved for this process until it exits (never an ephemeral one). */
export async function freePort(): Promise<number> {
  const [low, high] = ephemeralRange();
  mkdirSync(LOCK_DIR, { recursive: true });
  const start = FIRST + ((process.pid * 7919) % COUNT);
  for (let i = 0; i < COUNT; i += 1) {
    const port = FIRST + ((start - FIRST + i) % COUNT);
    if (port >= low && port <= high) continue;
    const lock = path.join(LOCK_DIR, String(port));
    try {
      closeSync(openSync(lock, 'wx'));
    } catch {
      continue; // another test process holds it (or a stale lock: skip, the range is large)
    }
    claimed.add(lock);
    if (await canBind(port)) return port;
  }
  throw new Error('no reservable port below the ephemeral range');
}

process.once('exit', () => {
  for (const lock of claimed) rmSync(lock, { force: true });
});

// The embedded dev server belongs to the `npm start` that launched it: it dies with its
// parent, even one killed by SIGKILL (Linux's parent-death signal, through util-linux `setpriv`);
// its pid is kept in the data dir, so a start after a crash stops the one left behind (known by its
// command line: `start-dev` on this data dir's database) before launching its own; and a port held
// by anything else is a clear error, never a server this service would silently talk to.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from './logger.js';
import { isProcessAlive } from './process-alive.js';

/** Where a guard is found: setpriv ships with util-linux on every Debian and most Linux systems. */
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

/**
 * The command that runs `cli args` so that it gets SIGTERM when its parent dies (PR_SET_PDEATHSIG).
 * Without setpriv (macOS, a minimal container) the command runs as it is and only the pid file
 * protects the next start.
 */
export function parentBoundCommand(cli: string, args: string[]): { command: string; args: string[]; bound: boolean } {
  const setpriv = SETPRIV_PATHS.find((p) => existsSync(p));
  return setpriv === undefined
    ? { command: cli, args, bound: false }
    : { command: setpriv, args: ['--pdeathsig', 'SIGTERM', '--', cli, ...args], bound: true };
}

/** The command line of a running process, or undefined when there is none (or no /proc). */
async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Stops the dev server a crashed start left running: the pid of `pidFile`, when that process is
 * still a `start-dev` on `dbFile`. SIGTERM, then SIGKILL after `graceMs`. A pid now used by
 * something else is left alone. The pid file is removed.
 */
export async function stopLeftoverDevServer(
  pidFile: string,
  dbFile: string,
  logger: Logger,
  graceMs = 10_000,
): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (Number.isSafeInteger(pid) && pid > 0) {
    const command = await commandLineOf(pid);
    if (command !== undefined && command.includes('start-dev') && command.includes(dbFile)) {
      logger.warn({ pid }, 'stopping the Temporal dev server a previous start left running');
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
      while (isProcessAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    }
  }
  await rm(pidFile, { force: true });
}

export async function writePidFile(pidFile: string, pid: number): Promise<void> {
  await writeFile(pidFile, `${pid}\n`);
}

/** Throws a clear error when another process listens on `ip:port` (or it cannot be bound). */
export async function assertPortFree(ip: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `${what} port ${ip}:${port} is in use by another process (not a Temporal dev server this service started); stop it, or set TEMPORAL_ADDRESS to use a Temporal you run yourself`
            : `${what} port ${ip}:${port} cannot be bound: ${error.message}`,
        ),
      );
    });
    server.listen(port, ip, () => server.close(() => resolve()));
  });
}

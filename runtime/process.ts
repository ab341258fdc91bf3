// Start-up shared by the entry points (service/main.ts, api/main.ts, worker/main.ts): load and
// validate the configuration, create the redacting logger, and run `main` with an ordered
// shutdown on SIGINT/SIGTERM or on a fatal error.
import { ConfigError, loadConfig, type Config } from '../domain/config.js';
import { Redactor } from '../domain/redact.js';
import { createLogger, type Logger } from './logger.js';
import { ShutdownStack, waitForSignal } from './shutdown.js';

export interface ProcessContext {
  config: Config;
  redactor: Redactor;
  logger: Logger;
  shutdown: ShutdownStack;
}

/** What `main` returns once started: `done` settles when a component stops or fails on its own. */
export interface Started {
  done: Promise<unknown>;
}

/**
 * Runs an entry point. `main` opens resources (registering each with `shutdown`); the process
 * stops cleanly on SIGINT/SIGTERM or when `done` settles.
 */
export async function runEntryPoint(name: string, main: (ctx: ProcessContext) => Promise<Started>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const redactor = new Redactor();
  const logger = createLogger({ level: config.logLevel, redactor, name });
  // Stopping the workers may take two grace periods (shared worker, then the drained git worker).
  const shutdown = new ShutdownStack(logger, 2 * config.shutdownGrace + 5_000);
  const signal = waitForSignal();
  let exitCode = 0;
  try {
    const { done } = await main({ config, redactor, logger, shutdown });
    const stopped = done.then(() => ({ stopped: 'component' }));
    // Components also stop (or fail) during an orderly shutdown; that is not a failure to report.
    stopped.catch(() => undefined);
    const outcome = await Promise.race([signal.then((s) => ({ signal: s })), stopped]);
    logger.info(outcome, 'shutting down');
  } catch (error) {
    exitCode = 1;
    logger.fatal({ err: error }, 'fatal error');
    process.stderr.write(`${name}: ${redactor.redactString(error instanceof Error ? error.message : String(error))}\n`);
  }
  await shutdown.close();
  logger.flush();
  process.exitCode = exitCode;
  // Give pino's async destination a moment, then leave even if a handle lingers.
  setTimeout(() => process.exit(exitCode), 200).unref();
}

// pino JSON logging with redaction on the final serialized line (docs/architecture.md "Security
// rules"): whatever reaches a log record — message, nested fields, serialized error stacks — passes
// through the Redactor just before it is written, so no code path can bypass it.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import type { Redactor } from '../domain/redact.js';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  redactor: Redactor;
  /** Defaults to stdout; tests pass a stream to read what was written. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger({ level, redactor, destination, name = 'relyloop-pr' }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => redactor.redactString(line) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

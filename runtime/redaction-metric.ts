// relyloop_redacted_secrets_total, the same on the API's and a worker's endpoint: secrets this
// process kept out of a log line, failure or GitHub text (the process's Redactor counts them).
import { Counter, type Registry } from 'prom-client';
import type { RedactionCounts, RedactionKind } from '../domain/redact.js';

export function registerRedactionCounter(registry: Registry, redactionCounts: RedactionCounts): void {
  new Counter({
    name: 'relyloop_redacted_secrets_total',
    help: 'Secrets this process removed from a log line, failure or GitHub text, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of Object.keys(redactionCounts) as RedactionKind[]) this.inc({ kind }, redactionCounts[kind]);
    },
  });
}

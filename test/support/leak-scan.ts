// Readable text of what Temporal persists, for leak checks: payloads are bytes (JSON encoded), so
// a token in an input, result, signal, memo, search attribute or failure is only visible once
// every `data` field is decoded.
import type { temporal } from '@temporalio/proto';

export function historyText(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(history, (key, value: unknown) => {
    if (key === 'data' && value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    return value;
  });
}

/** Every form of `secret` a leak could take: raw, and each base64 text that encodes it. */
export function leakFormsOf(secret: string, base64Forms: (s: string) => string[]): string[] {
  return [secret, ...base64Forms(secret)];
}

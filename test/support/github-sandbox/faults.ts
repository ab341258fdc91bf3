// Per-test fault injection: each FaultSpec hands out its faults in order, one per matching
// request, and is dropped once used up.
import type { Fault, FaultSpec } from './types.js';

export class FaultQueue {
  private specs: { method?: string; path: RegExp; faults: Fault[] }[] = [];

  add(spec: FaultSpec): void {
    this.specs.push({ method: spec.method?.toUpperCase(), path: spec.path, faults: [...spec.faults] });
  }

  clear(): void {
    this.specs = [];
  }

  /** The next fault for this request, if any spec matches it. */
  take(method: string, path: string): Fault | undefined {
    for (const spec of this.specs) {
      if (spec.method !== undefined && spec.method !== method.toUpperCase()) continue;
      spec.path.lastIndex = 0;
      if (!spec.path.test(path)) continue;
      const fault = spec.faults.shift();
      if (spec.faults.length === 0) this.specs = this.specs.filter((s) => s !== spec);
      if (fault !== undefined) return fault;
    }
    return undefined;
  }
}

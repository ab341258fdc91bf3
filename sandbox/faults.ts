// Per-test fault injection: each FaultSpec hands out its faults in order, one per matching
// request, and is dropped once used up. Random faults (soak tests) come from a seeded generator,
// so a run can be repeated.
import type { Fault, FaultSpec, HeldRequest, RandomFaults, RecordedRequest } from './types.js';

const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export class FaultQueue {
  private specs: { method?: string; path: RegExp; query?: RegExp; faults: Fault[] }[] = [];
  private random: (RandomFaults & { next: () => number })[] = [];
  readonly counts: Record<string, number> = {};

  add(spec: FaultSpec): void {
    this.specs.push({
      method: spec.method?.toUpperCase(),
      path: spec.path,
      query: spec.query,
      faults: [...spec.faults],
    });
  }

  addRandom(spec: RandomFaults): void {
    this.random.push({ ...spec, next: mulberry32(spec.seed) });
  }

  /** A hold for the next matching request; `reached` resolves when the sandbox holds it. */
  hold(match: { method?: string; path: RegExp; query?: RegExp; when: 'before' | 'after' }): HeldRequest {
    let arrive!: (r: RecordedRequest) => void;
    let release!: () => void;
    const reached = new Promise<RecordedRequest>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: HeldRequest & { arrive: typeof arrive; released: Promise<void> } = {
      reached,
      release,
      arrive,
      released,
    };
    this.add({
      method: match.method,
      path: match.path,
      query: match.query,
      faults: [{ hold: held, when: match.when }],
    });
    return held;
  }

  clear(): void {
    this.specs = [];
    this.random = [];
  }

  /** The next fault for this request, if any spec matches it (or the random draw picks it). */
  take(method: string, path: string, search = ''): Fault | undefined {
    for (const spec of this.specs) {
      if (spec.method !== undefined && spec.method !== method.toUpperCase()) continue;
      spec.path.lastIndex = 0;
      if (!spec.path.test(path)) continue;
      if (spec.query !== undefined && !spec.query.test(search)) continue;
      const fault = spec.faults.shift();
      if (spec.faults.length === 0) this.specs = this.specs.filter((s) => s !== spec);
      if (fault !== undefined) return this.count(fault);
    }
    // The first random spec whose path matches decides.
    const random = this.random.find((r) => r.path === undefined || r.path.test(path));
    if (random === undefined || random.next() >= random.rate) return undefined;
    const eligible = random.kinds.filter((k) => !('dropAnswer' in k) || WRITES.has(method.toUpperCase()));
    return eligible.length === 0
      ? undefined
      : this.count(eligible[Math.floor(random.next() * eligible.length)] as Fault);
  }

  private count(fault: Fault): Fault {
    const kind =
      'status' in fault
        ? String(fault.status)
        : 'reset' in fault
          ? 'reset'
          : 'delayMs' in fault
            ? 'delay'
            : 'dropAnswer' in fault
              ? 'dropAnswer'
              : 'hold';
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return fault;
  }
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

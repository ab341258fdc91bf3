// The sandbox's clock: the real one plus whatever a test advanced it by. Token expiry, the
// replication lag after a push, rate-limit windows and every timestamp the sandbox writes read it,
// so a test moves past a token's expiry or to the next second by advancing it instead of sleeping.
export class SandboxClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** GitHub's timestamp form: ISO 8601 in whole seconds, UTC. */
  iso(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`the sandbox clock only moves forward (asked ${ms} ms)`);
    this.offsetMs += ms;
  }
}

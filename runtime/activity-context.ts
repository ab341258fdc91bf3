// The running Temporal activity, for code below the activities (adapters) that must honour its
// cancellation and sleep through its context; outside an activity (adapter tests, tools) each
// falls back to plain Node behaviour.
import { Context } from '@temporalio/activity';

/** The running activity's cancellation signal; undefined outside an activity (adapter tests). */
export function currentCancellationSignal(): AbortSignal | undefined {
  return tryCurrentContext()?.cancellationSignal;
}

/**
 * Waits `ms`; inside an activity the wait ends early (CancelledFailure) when the attempt is
 * cancelled, so a cancelled step does not sit out a backoff or a pacing slot.
 */
export function activitySleep(ms: number): Promise<void> {
  return tryCurrentContext()?.sleep(ms) ?? new Promise((resolve) => setTimeout(resolve, ms));
}

/** The running activity's context; undefined outside an activity (adapter tests). */
export function tryCurrentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

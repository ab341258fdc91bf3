// Every activity heartbeats while it runs: when its worker dies, Temporal notices after
// the activity's heartbeat timeout (seconds) instead of its start-to-close (minutes), and retries
// it elsewhere. Heartbeats also carry cancellation to a running attempt (workflow cancelled, or the
// server gave the attempt up), which the git transfers honour through `currentCancellationSignal`.
import { tryCurrentContext } from '../runtime/activity-context.js';
import { wrapActivities } from './wrap-activities.js';

/** How often a running activity reports; the SDK batches these to 80 % of the heartbeat timeout. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Wraps every activity of `activities` so it heartbeats every `intervalMs` while it runs. The first
 * beat comes after one interval: an activity that finishes sooner costs no extra call.
 */
export function withHeartbeats<T extends object>(activities: T, intervalMs = HEARTBEAT_INTERVAL_MS): T {
  return wrapActivities(activities, (fn) => async (...args) => {
    const context = tryCurrentContext();
    const timer = context?.info.heartbeatTimeoutMs ? setInterval(() => context.heartbeat(), intervalMs) : undefined;
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  });
}

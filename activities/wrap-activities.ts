// One way to decorate every activity of a set (failure conversion, heartbeats, drain tracking):
// a copy of the object whose functions pass through a wrapper, names kept for the worker.

export type ActivityFn = (...args: never[]) => Promise<unknown>;

export function wrapActivities<T extends object>(activities: T, wrap: (fn: ActivityFn, name: string) => ActivityFn): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, ActivityFn][]) wrapped[name] = wrap(fn, name);
  return wrapped as T;
}

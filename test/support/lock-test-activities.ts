export function createLockTestActivities(events: { label: string; at: number }[]) {
  return {
    async record(label: string): Promise<void> {
      events.push({ label, at: Date.now() });
    },
  };
}
export type LockTestActivities = ReturnType<typeof createLockTestActivities>;

// Polls until a condition holds; errors thrown by the check count as "not yet".
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  context: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const detail = context();
  throw new Error(`timed out waiting for ${what}${detail ? `\n${detail.slice(-4000)}` : ''}`);
}

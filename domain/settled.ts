// Waiting on work started side by side (workflow code and the service's start alike).

/**
 * Both values once both promises settled; the first failure in argument order is thrown, so
 * nothing is left running unobserved and the error reported does not depend on timing.
 */
export async function settledInOrder<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

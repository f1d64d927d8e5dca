/**
 * Retries an assertion until it passes or the time runs out: for asynchronous consumers,
 * whose effects show up "soon" rather than at a known instant.
 */
export async function expectEventually<T>(
  assertion: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  const interval = opts.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((r) => setTimeout(r, interval));
  }
}

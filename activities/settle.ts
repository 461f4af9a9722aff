/**
 * Runs `fn` over `items` with at most `limit` in flight, keeping result order. After the first
 * failure (or an abort) nothing new starts, the ones in flight are awaited, then the first error is
 * thrown: an activity never returns while an upload it started is still running.
 */
export async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (failure === null && !signal.aborted && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
  return results;
}

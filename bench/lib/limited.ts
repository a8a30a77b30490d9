/**
 * Runs `task` over every item with at most `limit` in flight, starting the
 * next item as soon as any finishes; resolves with the results in item order.
 *
 * Why not batches of `limit` (`Promise.all` per slice): each batch waits for
 * its slowest connect, so a connect storm spends much of its time with only a
 * few handshakes in flight. With 5,000 fan-out subscribers connected and
 * joined in batches of 200, that took Switchboard 11.5 s and plain Socket.IO
 * 6.4 s; through this window, Switchboard's whole ladder setup (start,
 * connect, warm-up, first step) went from 15.9 to 13.2 s.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

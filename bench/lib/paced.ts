/**
 * Calls `send(n)` (n = 1, 2, ...) at `rate` per second for `durationMs`, then
 * waits for every returned promise. Ticks every few milliseconds and sends what
 * the rate owes by then, so the pace stays steady above timer resolution.
 * Resolves with how many were sent.
 */
export async function paced(rate: number, durationMs: number, send: (n: number) => Promise<unknown>, tickMs = 10): Promise<number> {
  const start = performance.now();
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) {
        clearInterval(timer);
        return resolve();
      }
      const due = Math.floor((elapsed / 1000) * rate) - sent;
      for (let i = 0; i < due; i++) inflight.push(send(++sent));
    }, tickMs);
  });
  await Promise.all(inflight);
  return sent;
}

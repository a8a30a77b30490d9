/**
 * Calls `send(n)` (n = 1, 2, ...) at `rate` per second for `durationMs`, then
 * waits for every returned promise. Ticks every `tickMs` and sends what the
 * rate owes by then, so the pace stays steady whatever the timer resolution.
 * Resolves with how many were sent.
 *
 * The default tick is 1 ms, the timers' finest: below 1,000/s sends leave one
 * at a time, evenly spaced, as a constant-rate load generator (wrk2) sends.
 * With 10 ms ticks (before session 14) a rate of R/s arrived as R/100 sends
 * back to back every 10 ms: at 200/s, pairs of publishes that reached the
 * server in one event-loop turn, which measures bursts rather than a rate.
 */
export async function paced(rate: number, durationMs: number, send: (n: number) => Promise<unknown>, tickMs = 1): Promise<number> {
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

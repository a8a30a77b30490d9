import { PerformanceObserver } from "node:perf_hooks";

/** Wall-clock time of day (UTC, ms) of a `performance.now()` reading, as the slow-delivery timeline prints it. */
const clock = (at: number) => new Date(performance.timeOrigin + at).toISOString().slice(11, 23);

/**
 * BENCH_DEBUG diagnostics: writes to stderr, with wall-clock times, every GC
 * pause over 5 ms and every event-loop stall over 15 ms of this process, so a
 * benchmark's slow windows can be lined up with the pauses of the process that
 * may have caused them. Load generators call it; a server under test loads
 * `pause-log-server.ts` (see there).
 */
export function logPauses(label: string): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration > 5) console.error(`[pause] ${label} ${process.pid} gc ${clock(entry.startTime)} ${entry.duration.toFixed(1)} ms kind=${(entry as { detail?: { kind?: number } }).detail?.kind}`);
    }
  }).observe({ entryTypes: ["gc"] });
  // A 5 ms timer that fires more than 20 ms after the last one: the loop was blocked (or the process descheduled) for the difference.
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 20) console.error(`[pause] ${label} ${process.pid} stall ${clock(last)} ${(now - last - 5).toFixed(1)} ms`);
    last = now;
  }, 5).unref();
}

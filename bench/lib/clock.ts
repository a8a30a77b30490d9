/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC through
 * libuv), with sub-millisecond precision. Every process on the machine reads
 * the same clock, so a timestamp taken by the publisher can be subtracted from
 * one taken by a load worker.
 *
 * Why not `performance.timeOrigin + performance.now()`: the origin is the wall
 * clock read once at process start, so a process started after the wall clock
 * was stepped (NTP) disagrees with an older one by the step. One full run had
 * every ladder started after such a step report a constant ~2 s latency.
 */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Logs every garbage collection of the process it is loaded into, for
 * `gc-summary.ts`: one line per collection with the wall-clock time it
 * started (epoch ms), its kind (`scavenge`, `mark-compact`, `incremental`,
 * `weak-callbacks`), its pause in ms, and the old generation's used bytes when
 * the entry reached the observer (shortly after the collection; entries come
 * in batches). Its growth from one scavenge to the next is what was promoted
 * in between (objects allocated straight into the old generation count too).
 *
 *   cd bench && BENCH_PROBE_DIR=/tmp/gc BENCH_NODE_ARGS="--import tsx --import ./lib/gc-probe.ts" \
 *     node --import tsx fanout.ts --sizes 1000 --targets switchboard,socketio --rate 30 --seconds 15 --rounds 2
 *   node --import tsx gc-summary.ts results/<that run>.json /tmp/gc
 *
 * Every server of the run loads it (BENCH_NODE_ARGS reaches the peers too);
 * each writes `gc-<script>-<pid>.log` into BENCH_PROBE_DIR.
 *
 * Caution: it perturbs what it measures. With it, 8 of 8 Switchboard
 * processes at 1,000 subscribers and 30/s promoted megabytes a second and
 * ran mark-compacts every few seconds; with only V8's own `--trace-gc`, 1 of
 * 10 did (BENCHMARKS.md, session 19). Check a finding against `--trace-gc`
 * (BENCH_NODE_ARGS="--trace-gc" BENCH_SERVER_LOG=<file>) before acting on it.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { basename } from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

const dir = process.env.BENCH_PROBE_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/gc-${basename(process.argv[1] ?? "node")}-${process.pid}.log`;
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
  };
  const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ?? 0;
  let lines: string[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      lines.push(`${Math.round(performance.timeOrigin + entry.startTime)} ${kinds[kind] ?? kind} ${entry.duration.toFixed(2)} ${oldSpaceUsed()}`);
    }
  }).observe({ entryTypes: ["gc"] });
  // Written once a second, not per collection: the probe must not add a write call per scavenge.
  const flush = () => {
    if (lines.length === 0) return;
    appendFileSync(file, lines.join("\n") + "\n");
    lines = [];
  };
  setInterval(flush, 1000).unref();
  process.on("exit", flush);
}

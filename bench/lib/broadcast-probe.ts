/**
 * Preloaded into a server under test, times every Socket.IO room broadcast
 * (the adapter's loop over the room's sockets) and says how much of that time
 * the server's main thread spent on a CPU, waiting for one, and how often it
 * was switched out, from the kernel's per-thread scheduler counters.
 *
 *   cd bench && BENCH_PROBE_DIR=/tmp/bp BENCH_NODE_ARGS="--import tsx --import ./lib/broadcast-probe.ts" \
 *     node --import tsx fanout.ts --sizes 5000 --targets switchboard,socketio --rate 2 --seconds 10 --rounds 4
 *   node --import tsx broadcast-summary.ts /tmp/bp
 *
 * Why: on this machine the load clients share the server's two cores, and a
 * broadcast loop's wall time includes the time the clients it wakes run on the
 * server's core. A loop that takes longer may be slower code or more
 * preempted; `run` against `wait` tells which (BENCHMARKS.md, session 21).
 * Linux only (`/proc/self/task/<tid>/schedstat`: ns on CPU, ns waiting on a
 * run queue, times scheduled).
 *
 * Every server of the run loads it (BENCH_NODE_ARGS reaches the peers too); it
 * writes `<dir>/<pid>.jsonl`, one line per broadcast to at least `minRoom`
 * (BENCH_PROBE_MIN_ROOM, default 100) sockets, appended once a second.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

interface Adapter {
  rooms: Map<string, Set<string>>;
  broadcast(packet: unknown, opts: { rooms: Set<string> }): void;
}

const dir = process.env.BENCH_PROBE_DIR ?? "/tmp";
const minRoom = Number(process.env.BENCH_PROBE_MIN_ROOM ?? 100);
const file = join(dir, `${process.pid}.jsonl`);
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
/** The server's own copy of socket.io-adapter, the one its Socket.IO loads (Switchboard's build or a baseline). */
const require = createRequire(join(process.cwd(), "x.js"));
const adapterPath = require.resolve("socket.io-adapter", { paths: [process.cwd(), join(process.argv[1] ?? "", "..")] });
const { Adapter } = require(adapterPath) as { Adapter: { prototype: Adapter } };

/** [ns on CPU, ns runnable but waiting, times scheduled] of the main thread. */
function sched(): number[] {
  return readFileSync(schedstat, "utf8").trim().split(" ").map(Number);
}

let rows: string[] = [];
const broadcast = Adapter.prototype.broadcast;
Adapter.prototype.broadcast = function (this: Adapter, packet, opts) {
  let sockets = 0;
  for (const room of opts.rooms) sockets += this.rooms.get(room)?.size ?? 0;
  if (sockets < minRoom) return broadcast.call(this, packet, opts);
  const before = sched();
  const started = process.hrtime.bigint();
  // Also on the shared monotonic clock (lib/clock.ts), which the fan-out workers' BENCH_DEBUG [slow] lines use.
  const mono = Number(started) / 1e6;
  broadcast.call(this, packet, opts);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = sched();
  rows.push(
    JSON.stringify({
      at: Date.now(),
      mono,
      sockets,
      wallMs,
      runMs: (after[0]! - before[0]!) / 1e6,
      waitMs: (after[1]! - before[1]!) / 1e6,
      switches: after[2]! - before[2]!,
      server: process.argv[1],
    }),
  );
};

setInterval(() => {
  if (rows.length === 0) return;
  appendFileSync(file, rows.join("\n") + "\n");
  rows = [];
}, 1000).unref();

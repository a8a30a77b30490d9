/**
 * Where a publish's time goes inside a fan-out server: loaded before the
 * server's own code, it times every `POST` from the HTTP server's `request`
 * event to the start of the Socket.IO broadcast it causes, the broadcast loop
 * itself (one room, every socket written), and the request to its response;
 * and, from the publisher's `t` stamp in fan-out's payload, the time until the
 * server saw the request and until its broadcast loop ended.
 * It works on Switchboard and on the plain Socket.IO peer alike (both
 * broadcast with Socket.IO's `BroadcastOperator`), without changing either:
 *
 *   cd bench && BENCH_NODE_ARGS="--import tsx --import ./lib/publish-probe.ts" \
 *     node --import tsx fanout.ts --sizes 100 --targets switchboard --rate 100 --seconds 8
 *
 * Every 2 s it rewrites `publish-probe-<pid>.txt` in `BENCH_PROBE_DIR` (default
 * the system temp directory) with p50/p90/p99 of each span; the first 30% of
 * the samples (connection phase, warm-up) are left out. A file rather than
 * stderr: the peer servers are stopped with SIGTERM and print nothing at exit.
 * Fan-out publishes one at a time at these rates, so the request being timed
 * is the one whose broadcast comes next.
 */
import { writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sharedClockMs } from "./clock.js";
import { Samples } from "./stats.js";

const require = createRequire(import.meta.url);
// socket.io's exports map hides its dist files; the operator sits next to its entry point.
const { BroadcastOperator } = require(join(dirname(require.resolve("socket.io")), "broadcast-operator.js")) as {
  BroadcastOperator: { prototype: { emit: (...args: unknown[]) => unknown } };
};

const spans = {
  "stamp->request": [] as number[],
  "request->broadcast": [] as number[],
  broadcast: [] as number[],
  "stamp->broadcast-end": [] as number[],
  "request->response": [] as number[],
};
let requestAt = 0;
/** `requestAt` on the shared clock of `lib/clock.ts`, which the publisher's `t` stamp was read from. */
let requestClockAt = 0;

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  const [req, res] = args as [http.IncomingMessage, http.ServerResponse];
  if (event === "request" && req.method === "POST") {
    const at = performance.now();
    requestAt = at;
    requestClockAt = sharedClockMs();
    res.once("finish", () => spans["request->response"].push(performance.now() - at));
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

const broadcast = BroadcastOperator.prototype.emit;
BroadcastOperator.prototype.emit = function (this: unknown, ...args: unknown[]) {
  const start = performance.now();
  const stamp = stampOf(args[1]);
  if (requestAt) {
    spans["request->broadcast"].push(start - requestAt);
    if (stamp !== undefined) spans["stamp->request"].push(requestClockAt - stamp);
  }
  requestAt = 0;
  try {
    return broadcast.apply(this, args);
  } finally {
    spans.broadcast.push(performance.now() - start);
    if (stamp !== undefined) spans["stamp->broadcast-end"].push(sharedClockMs() - stamp);
  }
};

/** The publisher's `t` (fan-out's `{ t }` payload), as the peer broadcasts it or inside Switchboard's event data. */
function stampOf(data: unknown): number | undefined {
  const t = (data as { t?: unknown } | undefined)?.t;
  return typeof t === "number" ? t : undefined;
}

function summary(samples: number[]): string {
  const kept = new Samples();
  kept.addAll(samples.slice(Math.floor(samples.length * 0.3)));
  if (kept.count === 0) return "n=0";
  const at = (p: number) => kept.percentile(p).toFixed(3);
  return `n=${kept.count} p50=${at(50)} p90=${at(90)} p99=${at(99)} ms`;
}

const file = join(process.env.BENCH_PROBE_DIR ?? tmpdir(), `publish-probe-${process.pid}.txt`);
setInterval(() => {
  writeFileSync(file, Object.entries(spans).map(([name, samples]) => `${name} ${summary(samples)}`).join("\n") + "\n");
}, 2000).unref();

/**
 * Load-generator process of the fan-out benchmark: holds a share of the room's
 * subscribers and records publish-to-receive latency from the sender's
 * timestamp (the machine's monotonic clock, `lib/clock.ts`, which every
 * process reads alike).
 */
import { SioClient } from "./lib/sio-client.js";
import { sharedClockMs } from "./lib/clock.js";
import { mapLimited } from "./lib/limited.js";

const now = sharedClockMs;
let clients: SioClient[] = [];
let received = 0;
let latencies: number[] = [];
/** Deliveries of any step: quiet once an earlier step's backlog has landed. */
let total = 0;
/** Ticks published before this time (shared clock) belong to an earlier step and are not counted. */
let stepStart = Infinity;
/** Heartbeat pings the clients had answered when the step began. */
let pingsAtStart = 0;
const pings = () => clients.reduce((n, c) => n + c.pings, 0);
/**
 * BENCH_DEBUG: publishes (by their send time on the shared clock) that reached
 * some subscriber here more than {@link SLOW_MS} late, with their slowest
 * delivery and count, printed to stderr with each step's report, to line a
 * step's tail up with a server's own timeline (e.g. lib/broadcast-probe.ts).
 */
const SLOW_MS = 30;
const slow = new Map<number, { max: number; count: number }>();

process.on("message", async (msg: any) => {
  try {
    if (msg.type === "connect") {
      // `urls[k]` (several nodes) is where token k connects; otherwise every client uses `url`.
      // `spreadMs`: handshakes start evenly over that long rather than as fast as they can (see fanout.ts's `load`).
      const { url, urls, tokens, join, spreadMs = 0 } = msg as { url?: string; urls?: string[]; tokens: string[]; join: [string, unknown]; spreadMs?: number };
      const began = performance.now();
      // 200 handshakes in flight, each followed by its join.
      const joined = await mapLimited(tokens, 200, async (token, k) => {
        const wait = began + (k * spreadMs) / tokens.length - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const client = new SioClient(urls?.[k] ?? url!, token);
        await client.connected;
        client.on("bench:tick", (data: { t: number }) => {
          total++;
          if (data.t < stepStart) return;
          received++;
          // To 0.01 ms, the precision reported: a step's report carries up to a million of them over IPC.
          const latency = Math.round((now() - data.t) * 100) / 100;
          latencies.push(latency);
          if (latency > SLOW_MS && process.env.BENCH_DEBUG) {
            const seen = slow.get(data.t) ?? { max: 0, count: 0 };
            slow.set(data.t, { max: Math.max(seen.max, latency), count: seen.count + 1 });
          }
        });
        await client.request(join[0], join[1]);
        return client;
      });
      clients.push(...joined);
      process.send!({ type: "connected", count: clients.length });
    } else if (msg.type === "shrink") {
      // Keeps `keep` of this worker's subscribers, evenly over the order they connected in: a room
      // connected over a ping interval keeps its heartbeats spread (see fanout.ts's `shrink`).
      const keep = Math.min(msg.keep as number, clients.length);
      const kept = Array.from({ length: keep }, (_, j) => clients[Math.floor((j * clients.length) / keep)]!);
      const keptSet = new Set(kept);
      const dropped = clients.filter((c) => !keptSet.has(c));
      clients = kept;
      await Promise.all(dropped.map((c) => c.closeAndWait()));
      process.send!({ type: "shrunk", count: clients.length });
    } else if (msg.type === "reset") {
      received = 0;
      latencies = [];
      stepStart = msg.from ?? 0;
      pingsAtStart = pings();
      process.send!({ type: "reset" });
    } else if (msg.type === "count") {
      const cpu = process.cpuUsage();
      process.send!({ type: "count", received, total, cpuMicros: cpu.user + cpu.system });
    } else if (msg.type === "report") {
      for (const [t, { max, count }] of slow) console.error(`[slow] worker ${process.pid} sent=${t.toFixed(2)} max=${max}ms deliveries=${count}`);
      slow.clear();
      const cpu = process.cpuUsage();
      process.send!({ type: "report", received, latencies, heartbeats: pings() - pingsAtStart, cpuMicros: cpu.user + cpu.system });
    } else if (msg.type === "exit") {
      for (const c of clients) c.close();
      clients = [];
      process.exit(0);
    }
  } catch (err) {
    process.send!({ type: "error", message: (err as Error).stack ?? String(err) });
  }
});

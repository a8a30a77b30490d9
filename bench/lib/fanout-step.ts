import type { ChildProcess } from "node:child_process";
import { ask } from "./ipc.js";
import { paced } from "./paced.js";
import { Samples, processCpuSeconds, processWriteSyscalls } from "./stats.js";
import { sharedClockMs } from "./clock.js";

const now = sharedClockMs;

/** A step "keeps up" when nearly every expected delivery arrived and p99 stays under a second. */
export const KEEP_UP_RATIO = 0.97;

export interface FanoutStepOptions {
  /** fanout-worker processes holding the subscribers. */
  workers: ChildProcess[];
  /** Subscribers in total (expected deliveries = publishes × subscribers). */
  subscribers: number;
  rate: number;
  stepMs: number;
  /** Publishing tick in ms (see {@link paced}); default 1. */
  tickMs?: number;
  /** Publishes one `bench:tick` carrying the send time. */
  publish: (event: string, data: unknown) => Promise<void>;
  /** Server processes whose CPU is summed. */
  pids: number[];
  /**
   * Whether to wait for an earlier step's backlog first (default true). A step
   * after one whose every delivery arrived may skip it: nothing is in flight.
   */
  quiesce?: boolean;
}

interface WorkerCount {
  received: number;
  total: number;
  cpuMicros: number;
}

const counts = (workers: ChildProcess[]) => Promise.all(workers.map((w) => ask<WorkerCount>(w, { type: "count" }, "count")));

/**
 * Waits until the workers got no delivery for 200 ms (at most 5 s), so the
 * backlog of an overloaded step lands before the next starts: it must neither
 * be counted as the next step's nor compete with it for the CPU.
 */
export async function quiesce(workers: ChildProcess[]): Promise<void> {
  const started = performance.now();
  for (let last = -1; performance.now() - started < 5000; ) {
    const total = (await counts(workers)).reduce((s, c) => s + c.total, 0);
    if (total === last) return;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * One rate step of a fan-out run: publishes `bench:tick` at `rate`/s for
 * `stepMs`, then collects deliveries and publish-to-receive latency from the
 * workers, with server and client CPU over the step.
 */
export async function runFanoutStep(options: FanoutStepOptions) {
  const { workers, subscribers, rate, stepMs, publish, pids } = options;
  const serverCpu = async () => (await Promise.all(pids.map((pid) => processCpuSeconds(pid)))).reduce((a, b) => a + b, 0);
  const serverWrites = async () => (await Promise.all(pids.map((pid) => processWriteSyscalls(pid)))).reduce((a, b) => a + b, 0);
  if (options.quiesce ?? true) await quiesce(workers);
  const started = performance.now();
  const startedAtMs = Date.now();
  const cpuBefore = await serverCpu();
  const writesBefore = await serverWrites();
  const clientCpuBefore = (await counts(workers)).reduce((s, c) => s + c.cpuMicros, 0);
  const publisherCpuBefore = process.cpuUsage();
  // Workers count only ticks published from now on; late ones of an earlier step are ignored.
  await Promise.all(workers.map((w) => ask(w, { type: "reset", from: now() }, "reset")));
  const sent = await paced(rate, stepMs, () => publish("bench:tick", { t: now() }).catch(() => {}), options.tickMs);
  const expected = sent * subscribers;
  // Let the last deliveries land: until every one expected has, or half a second.
  const drainStart = performance.now();
  while (performance.now() - drainStart < 500) {
    if ((await counts(workers)).reduce((s, c) => s + c.received, 0) >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const reports = await Promise.all(workers.map((w) => ask<any>(w, { type: "report" }, "report")));
  const elapsed = (performance.now() - started) / 1000;
  const endedAtMs = Date.now();
  const seconds = stepMs / 1000;
  const received = reports.reduce((s, r) => s + r.received, 0);
  const latency = new Samples();
  for (const r of reports) latency.addAll(r.latencies);
  const summary = latency.summary();
  const serverCpuShare = ((await serverCpu()) - cpuBefore) / elapsed;
  const writes = (await serverWrites()) - writesBefore;
  const clientCpu = (reports.reduce((s, r) => s + r.cpuMicros, 0) - clientCpuBefore) / 1e6 / elapsed;
  const publisherCpu = process.cpuUsage(publisherCpuBefore);
  return {
    rate,
    sent,
    deliveredPerSecond: Math.round(received / seconds),
    deliveredRatio: Math.round((received / Math.max(1, expected)) * 1000) / 1000,
    latencyMs: summary,
    serverCpuPercent: Math.round(serverCpuShare * 100),
    // Deliveries per write system call of the server(s): above 1 when frames are coalesced.
    deliveriesPerWriteSyscall: Math.round((received / Math.max(1, writes)) * 100) / 100,
    clientCpuPercent: Math.round(clientCpu * 100),
    // The harness process, which publishes (HTTP requests; socket emits to the peers with --publish socket).
    publisherCpuPercent: Math.round(((publisherCpu.user + publisherCpu.system) / 1e6 / elapsed) * 100),
    /**
     * Engine.IO heartbeat pings the server sent the room during the step (25 s
     * apart per socket; a room connected within seconds gets them in bursts),
     * each a write besides the deliveries: two servers' steps at the same rate
     * can differ here.
     */
    heartbeats: reports.reduce((s, r) => s + (r.heartbeats ?? 0), 0),
    keptUp: received >= expected * KEEP_UP_RATIO && summary.p99 < 1000,
    /** Every expected delivery arrived: no backlog is left for the next step. */
    complete: received >= expected,
    /** Wall-clock bounds of the step (epoch ms), to line it up with a server's own logs (gc-summary.ts). */
    startedAtMs,
    endedAtMs,
  };
}

/**
 * Many small rooms (issue 12, scenario 2): 1,000 rooms of 5 members on each of
 * three servers started here; members take turns sending to their room and
 * every other member should receive each message. The total send rate is
 * stepped up until delivery falls behind.
 *
 * On Switchboard a room is a group conversation and a message is `message:send`:
 * validated, authorized, stored in Postgres (gapless `seq`) and acked after the
 * commit, then delivered. The peers do what typical apps do with no persistence:
 * plain Socket.IO `socket.to(room).emit` from a handler, raw `ws` a loop over
 * the room's other sockets. The ratio therefore prices persistence in.
 *
 *   npm run bench:rooms -- [--quick] [--bisections 2] [--db postgres|pglite] [--targets switchboard,socketio,raw-ws]
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { benchDatabase } from "./lib/database.js";
import { ask } from "./lib/ipc.js";
import { runOverlapped } from "./lib/overlapped.js";
import { climb } from "./lib/ladder.js";
import { argChoice, argValue, runHeader, writeRun, sinceStart } from "./lib/report.js";
import { Samples, processCpuSeconds } from "./lib/stats.js";
import { SECRET, TARGET_NAMES, startTarget, type Target } from "./lib/targets.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const DB = argChoice(args, "--db", ["postgres", "pglite"], "postgres");
const TARGETS = argChoice(args, "--targets", TARGET_NAMES, TARGET_NAMES, "list");
const ROOMS = Number(argValue(args, "--rooms") ?? 1000);
const MEMBERS = 5;
const WORKERS = 2;
const STEP_MS = quick ? 1000 : 3000;
/** Unrecorded sending at the first rate before the first step (a fresh server runs unoptimized code at first). */
const WARMUP_MS = 1000;
const BISECTIONS = Number(argValue(args, "--bisections") ?? 2);
/**
 * Total sends per second: from 250 (1,000 in quick runs), doubling until
 * delivery falls behind, then the bisections. Every server kept up below
 * 1,000/s in every run so far; those steps cost the full run about 7 s.
 */
const RATE_START = quick ? 1000 : 250;
const RATE_MAX = 32_000;
const KEEP_UP_RATIO = 0.97;

/**
 * Runs one server's ladder. `previousStopped` is the stop of the server before
 * (about 2 s for Switchboard with 5,000 connections): it may go on while this
 * one starts and its members connect (nothing is measured then), and is over
 * before the warm-up. Resolves with the result and this server's own stop,
 * which the next run overlaps in the same way.
 */
async function runTarget(name: Target["name"], previousStopped: Promise<void>) {
  // On any failure here the previous server's stop is still waited for, so its schema is dropped.
  const db = name === "switchboard" ? await benchDatabase(DB).catch(async (err: unknown) => {
    await previousStopped;
    throw err;
  }) : undefined;
  const env: Record<string, string> = {
    RATE_LIMITS: "message=1000000/1,conversation=1000000/1,room=1000000/1,connect=1000000/1,other=1000000/1",
    ...db?.env,
  };
  // Forked before the server starts, so that their own start (loading their modules) overlaps its.
  const workers: ChildProcess[] = Array.from({ length: WORKERS }, () => fork(fileURLToPath(new URL("./rooms-worker.ts", import.meta.url)), { execArgv: ["--import", "tsx"] }));
  const target = await startTarget(name, async () => async () => {}, env).catch(async (err: unknown) => {
    for (const w of workers) w.kill();
    await db?.drop();
    await previousStopped;
    throw err;
  });
  console.error(`  ${sinceStart()} ${name} started`);
  const stop = async () => {
    for (const w of workers) w.send({ type: "exit" });
    await target.stop();
    await db?.drop();
    console.error(`  ${sinceStart()} ${name} stopped`);
  };
  try {
    const connectStart = performance.now();
    await Promise.all(
      workers.map((w, i) =>
        ask(w, { type: "setup", target: name, url: target.url, secret: SECRET, members: MEMBERS, rooms: Array.from({ length: ROOMS }, (_, r) => r).filter((r) => r % WORKERS === i) }, "ready"),
      ),
    );
    const setupSeconds = (performance.now() - connectStart) / 1000;
    console.error(`  ${sinceStart()} ${name}: rooms set up`);
    await previousStopped;
    await Promise.all(workers.map((w) => ask<any>(w, { type: "step", rate: RATE_START / WORKERS, durationMs: WARMUP_MS }, "step")));
    const { steps, sustained } = await climb(RATE_START, RATE_MAX, BISECTIONS, async (rate) => {
      // An overloaded step's backlog lands before the next starts (and is not counted as its).
      await Promise.all(workers.map((w) => ask(w, { type: "quiesce" }, "quiet")));
      const cpuBefore = await processCpuSeconds(target.pid);
      const stepStart = performance.now();
      const reports = await Promise.all(workers.map((w) => ask<any>(w, { type: "step", rate: rate / WORKERS, durationMs: STEP_MS }, "step")));
      const seconds = (performance.now() - stepStart) / 1000;
      const sent = reports.reduce((s, r) => s + r.sent, 0);
      const received = reports.reduce((s, r) => s + r.received, 0);
      const latency = new Samples();
      for (const r of reports) latency.addAll(r.latencies);
      const summary = latency.summary();
      const expected = sent * (MEMBERS - 1);
      const step = {
        rate,
        sent,
        failed: reports.reduce((s, r) => s + r.failed, 0),
        deliveredPerSecond: Math.round(received / (STEP_MS / 1000)),
        deliveredRatio: Math.round((received / Math.max(1, expected)) * 1000) / 1000,
        latencyMs: summary,
        serverCpuPercent: Math.round((((await processCpuSeconds(target.pid)) - cpuBefore) / seconds) * 100),
        clientCpuPercent: Math.round((reports.reduce((s, r) => s + r.cpuSeconds, 0) / seconds) * 100),
        keptUp: received >= expected * KEEP_UP_RATIO && summary.p99 < 1000,
      };
      console.error(`  ${sinceStart()} ${name} rate=${rate}/s delivered=${step.deliveredPerSecond}/s ratio=${step.deliveredRatio} p99=${summary.p99}ms server=${step.serverCpuPercent}% client=${step.clientCpuPercent}%`);
      return step;
    });
    const result = { target: name, setupSeconds: Math.round(setupSeconds * 10) / 10, maxSustainedRate: sustained?.rate ?? 0, maxSustainedDeliveredPerSecond: sustained?.deliveredPerSecond ?? 0, steps };
    return { result, stopped: stop() };
  } catch (err) {
    await stop();
    await previousStopped;
    throw err;
  }
}

const results = await runOverlapped(TARGETS, (name, previousStopped) => {
  console.error(`[bench:rooms] ${name}: ${ROOMS} rooms x ${MEMBERS} members`);
  return runTarget(name, previousStopped);
});
const run = {
  ...(await runHeader("rooms", `npm run bench:rooms -- ${args.join(" ")}`.trim())),
  setup: { rooms: ROOMS, members: MEMBERS, connections: ROOMS * MEMBERS, workers: WORKERS, stepMs: STEP_MS, warmupMs: WARMUP_MS, ladder: { start: RATE_START, max: RATE_MAX, refine: BISECTIONS }, keepUpRatio: KEEP_UP_RATIO, switchboardDatabase: DB },
  results,
};
const file = await writeRun(run);

console.log(`\nsmall rooms, commit ${run.commit}, ${run.date}, written to ${file}\n`);
console.log("| server | max sustained send rate | delivered msg/s | vs plain Socket.IO | p50 / p99 / p99.9 ms at that rate | server CPU | client CPU |");
console.log("|---|---|---|---|---|---|---|");
const peer = results.find((r) => r.target === "socketio");
for (const r of results) {
  const step = r.steps.find((s) => s.rate === r.maxSustainedRate);
  const ratio = peer && peer.maxSustainedDeliveredPerSecond > 0 ? (r.maxSustainedDeliveredPerSecond / peer.maxSustainedDeliveredPerSecond).toFixed(2) : "-";
  const l = step?.latencyMs;
  console.log(`| ${r.target} | ${r.maxSustainedRate}/s | ${r.maxSustainedDeliveredPerSecond} | ${ratio}x | ${l ? `${l.p50} / ${l.p99} / ${l.p999}` : "-"} | ${step?.serverCpuPercent ?? "-"}% | ${step?.clientCpuPercent ?? "-"}% |`);
}
process.exit(0);

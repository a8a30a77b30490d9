/**
 * Idle connections (issue 12, scenario 4): ramps each server started here to N
 * authenticated idle connections (distinct users, so Switchboard does its full
 * per-connection work: JWT, presence, automatic channels, limits) and reports
 * the connect rate, and the server's RSS and V8 heap per connection (growth from
 * the idle server to the settled loaded one).
 *
 *   npm run bench:connections -- [--quick] [--connections 20000] [--db postgres|pglite] [--targets switchboard,socketio,raw-ws] [--probe-seconds 3]
 *
 * The file limit bounds N: the harness raises it where it may (`ulimit -n`) and
 * otherwise stops short of the hard limit and says so in the result.
 */
import { execSync, fork, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { benchDatabase } from "./lib/database.js";
import { ask } from "./lib/ipc.js";
import { runOverlapped } from "./lib/overlapped.js";
import { argChoice, argValue, runHeader, writeRun, sinceStart } from "./lib/report.js";
import { SioClient } from "./lib/sio-client.js";
import { processCpuSeconds, Samples } from "./lib/stats.js";
import { SECRET, TARGET_NAMES, startTarget, type Target } from "./lib/targets.js";
import { benchSwitchboardEnv } from "./lib/server-process.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const TARGETS = argChoice(args, "--targets", TARGET_NAMES, TARGET_NAMES, "list");
const DB = argChoice(args, "--db", ["postgres", "pglite"], "postgres");
const WANTED = Number(argValue(args, "--connections") ?? (quick ? 5000 : 20000));
/** Descriptors a server needs besides its sockets (listeners, database, logs, libuv). */
const HEADROOM = 200;
const hardLimit = Number(execSync("bash -c 'ulimit -Hn'").toString().trim());
const N = Math.min(WANTED, Number.isFinite(hardLimit) ? hardLimit - HEADROOM : WANTED);
const WORKERS = 2;
const CONCURRENCY = 100; // handshakes in flight per worker
/** Longest wait for the server's RSS to settle before it is read. */
const SETTLE_MS = quick ? 3000 : 8000;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Switchboard's V8 heap in use, from its Prometheus metrics (the peers have none). */
async function heapBytes(target: Target): Promise<number | undefined> {
  if (target.name !== "switchboard") return undefined;
  const text = await (await fetch(`${target.url}/metrics`)).text();
  const match = /^switchboard_nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** How long the loaded, idle server's responsiveness is probed (`--probe-seconds`, default 3). */
const PROBE_MS = Number(argValue(args, "--probe-seconds") ?? 3) * 1000;
if (!(PROBE_MS > 0)) throw new Error("--probe-seconds must be a positive number");
/** Pause between one probe's pong and its next ping. */
const PROBE_GAP_MS = 2;

/**
 * The loaded, idle server's responsiveness: one more client, connected like
 * the idle ones, sends WebSocket pings one at a time for PROBE_MS and reports
 * the worst and the 99th-percentile round trip. Work the server does
 * periodically over every connection (Switchboard's policy sweep, Engine.IO's
 * heartbeats) stalls its event loop and shows here as the maximum. The probe
 * runs in this harness process, which is otherwise idle.
 */
async function idleResponsiveness(target: Target): Promise<{ maxMs: number; p99Ms: number; pings: number }> {
  const client = new SioClient(target.url, await target.token("idle-probe"));
  await client.connected;
  const rtts = new Samples();
  const end = performance.now() + PROBE_MS;
  while (performance.now() < end) {
    rtts.add(await client.ping());
    await sleep(PROBE_GAP_MS);
  }
  client.close();
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { maxMs: round(rtts.percentile(100)), p99Ms: round(rtts.percentile(99)), pings: rtts.count };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the server has finished what the last connections started: its
 * RSS moved less than 0.5% over the last second (at least 1 s, at most
 * SETTLE_MS), so RSS is read when settled rather than after a fixed pause.
 */
async function settle(pid: number): Promise<void> {
  const started = performance.now();
  const samples: number[] = [];
  for (;;) {
    samples.push(await rssBytes(pid));
    const elapsed = performance.now() - started;
    const second = samples.length >= 3 ? samples[samples.length - 3]! : undefined;
    if (elapsed >= SETTLE_MS || (elapsed >= 1000 && second !== undefined && Math.abs(samples.at(-1)! - second) / second < 0.005)) return;
    await sleep(500);
  }
}

/**
 * Ramps one server. `previousStopped` is the stop of the server before (its
 * workers closing 19,800 sockets, its schema dropped): it may go on while this
 * one starts and its idle RSS settles, and is over before the ramp. Resolves with
 * the result and this server's own stop.
 */
async function runTarget(name: Target["name"], previousStopped: Promise<void>) {
  // On any failure here the previous server's stop is still waited for, so its schema is dropped.
  const db = name === "switchboard" ? await benchDatabase(DB).catch(async (err: unknown) => {
    await previousStopped;
    throw err;
  }) : undefined;
  // Forked before the server starts, so that their own start (loading their modules) overlaps its.
  const workers: ChildProcess[] = Array.from({ length: WORKERS }, () => fork(fileURLToPath(new URL("./connections-worker.ts", import.meta.url)), { execArgv: ["--import", "tsx"] }));
  const target = await startTarget(name, async () => async () => {}, {
    ...benchSwitchboardEnv(),
    ...db?.env,
    RATE_LIMITS: "connect=1000000/1,room=1000000/1,other=1000000/1",
    MAX_CONNECTIONS_PER_USER: "100000",
  }).catch(async (err: unknown) => {
    for (const w of workers) w.kill();
    await db?.drop();
    await previousStopped;
    throw err;
  });
  // Over once the server has exited, the workers too (their sockets closed), and its schema is gone.
  // The server is killed, not stopped: how fast a server stops is not what this scenario measures,
  // and Switchboard's graceful stop just after 19,800 clients left (their presence departures,
  // lastSeen) took about 6 s, the scenario's longest wait (session 25).
  const stop = async () => {
    await target.kill();
    const exited = workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => w.once("exit", () => resolve()))));
    for (const w of workers) if (w.connected) w.send({ type: "exit" });
    await Promise.all(exited);
    console.error(`  [${(performance.now() / 1000).toFixed(1)}s] ${name}: server killed, workers gone`);
    await db?.drop();
  };
  try {
    // Tokens are minted before the ramp (the target's own `token`: a JWT for Switchboard, none for the peers),
    // as an app's backend mints them before its clients connect: the ramp times connecting only. They are
    // minted while the previous server stops and this one's idle RSS settles, which neither reads.
    const minting = Promise.all(
      Array.from({ length: WORKERS }, (_, i) => Promise.all(Array.from({ length: N }, (_, k) => `idle${k}`).filter((_, k) => k % WORKERS === i).map((sub) => target.token(sub)))),
    );
    minting.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    console.error(`  ${sinceStart()} ${name} started`);
    // The previous server's stop does not touch this one's RSS; its CPU would slow the ramp.
    await Promise.all([previousStopped.then(() => console.error(`  ${sinceStart()} previous server stopped`)), settle(target.pid)]);
    const before = { rss: await rssBytes(target.pid), heap: await heapBytes(target) };
    const shares = await minting;
    const cpuBefore = await processCpuSeconds(target.pid);
    const start = performance.now();
    const reports = await Promise.all(workers.map((w, i) => ask<any>(w, { type: "open", url: target.url, tokens: shares[i], concurrency: CONCURRENCY }, "opened")));
    const rampSeconds = (performance.now() - start) / 1000;
    const rampCpu = (await processCpuSeconds(target.pid)) - cpuBefore;
    const opened = reports.reduce((s, r) => s + r.opened, 0);
    console.error(`  ${sinceStart()} ${name} ramp over`);
    await settle(target.pid);
    console.error(`  ${sinceStart()} ${name} settled`);
    const after = { rss: await rssBytes(target.pid), heap: await heapBytes(target) };
    const idle = await idleResponsiveness(target);
    const result = {
      target: name,
      connections: opened,
      failed: reports.reduce((s, r) => s + r.failed, 0),
      rampSeconds: Math.round(rampSeconds * 10) / 10,
      connectsPerSecond: Math.round(opened / rampSeconds),
      serverCpuPercentDuringRamp: Math.round((rampCpu / rampSeconds) * 100),
      clientCpuSeconds: Math.round(reports.reduce((s, r) => s + r.cpuSeconds, 0) * 10) / 10,
      rssBeforeMiB: Math.round(before.rss / 2 ** 20),
      rssAfterMiB: Math.round(after.rss / 2 ** 20),
      rssPerConnectionKiB: Math.round(((after.rss - before.rss) / Math.max(1, opened) / 1024) * 10) / 10,
      heapPerConnectionKiB: before.heap !== undefined && after.heap !== undefined ? Math.round(((after.heap - before.heap) / Math.max(1, opened) / 1024) * 10) / 10 : undefined,
      idlePingRoundTripMaxMs: idle.maxMs,
      idlePingRoundTripP99Ms: idle.p99Ms,
      idlePings: idle.pings,
    };
    console.error(`  ${name}: ${opened} connected (${result.failed} failed) in ${result.rampSeconds}s, RSS +${result.rssPerConnectionKiB} KiB/conn, heap +${result.heapPerConnectionKiB ?? "-"} KiB/conn, idle ping round trip max ${idle.maxMs} ms (p99 ${idle.p99Ms}, ${idle.pings} pings)`);
    return { result, stopped: stop() };
  } catch (err) {
    await stop();
    await previousStopped;
    throw err;
  }
}

const results = await runOverlapped(TARGETS, (name, previousStopped) => {
  console.error(`[bench:connections] ${name}: ${N} idle connections`);
  return runTarget(name, previousStopped);
});
const run = {
  ...(await runHeader("connections", `npm run bench:connections -- ${args.join(" ")}`.trim())),
  setup: { wanted: WANTED, probeMs: PROBE_MS, probeGapMs: PROBE_GAP_MS, connections: N, fileLimitHard: hardLimit, workers: WORKERS, concurrencyPerWorker: CONCURRENCY, settleMs: SETTLE_MS, switchboardDatabase: DB },
  results,
};
const file = await writeRun(run);

console.log(`\nidle connections, commit ${run.commit}, ${run.date}, written to ${file}${N < WANTED ? ` (capped at ${N} by the hard file limit ${hardLimit})` : ""}\n`);
console.log(`| server | connections | connect rate | server CPU during ramp | RSS idle -> loaded | RSS per connection | V8 heap per connection | idle ping round trip, max (p99) over ${PROBE_MS / 1000} s |`);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(`| ${r.target} | ${r.connections} | ${r.connectsPerSecond}/s | ${r.serverCpuPercentDuringRamp}% | ${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB | ${r.rssPerConnectionKiB} KiB | ${r.heapPerConnectionKiB ?? "-"} KiB | ${r.idlePingRoundTripMaxMs} ms (${r.idlePingRoundTripP99Ms}) |`);
}
process.exit(0);

/**
 * Fan-out benchmark (issue 12, scenario 1): one room of N subscribers on each
 * of three servers started here (Switchboard, plain Socket.IO, raw ws); the
 * publish rate is stepped up until delivery falls behind. Reports delivered
 * messages/s and publish-to-receive latency p50/p99/p99.9 per step, and per
 * size a table of every server's latency at each rate plain Socket.IO kept up
 * with (`sameRate` in the JSON): issue 12's p99 comparison, read off one run.
 *
 *   npm run bench:fanout -- [--quick] [--sizes 100,1000,5000] [--targets switchboard,socketio,raw-ws]
 *                           [--bisections 2] [--rate R | --deliveries D1,D2] [--seconds S] [--rounds K]
 *                           [--db postgres|pglite]
 *                           [--publish http|socket] [--tick-ms 1] [--fresh-per-size]
 *
 * Switchboard runs on Postgres (a fresh schema per run, or per size with
 * `--fresh-per-size`), its production setup and that of the other scenarios;
 * `--db pglite` runs it on the embedded zero-setup store instead, whose
 * queries run inside the server process.
 *
 * The sizes run largest first on one set of servers: the largest room is
 * connected once and shrunk for each smaller size (see {@link runShrinking}).
 * `--fresh-per-size` starts new servers for each size instead, smallest first,
 * as sessions 1-26 did.
 *
 * Every server gets its publishes the same way: `POST` requests on keep-alive
 * connections from the harness (Switchboard's `/v1/events` with an API key, the
 * peers' `/publish` handler), so the comparison is of the servers, not of two
 * publish transports. `--publish socket` has the peers publish through a
 * Socket.IO socket of their own instead, as in sessions 1-5 (Switchboard has
 * no such path, so it still gets HTTP).
 *
 * For each size the servers run side by side, each with its subscribers
 * connected, and take turns step by step: at each rate of the ladders every
 * server still keeping up runs its step, the order reversed from rate to rate
 * (since session 17; before, one server's whole ladder ran after another's, and
 * steps at the same rate were 20-60 s apart, over which this machine's speed
 * drifts by as much as the light-rate latency differences measured).
 *
 * Before any step, every server serves the same 3,000 publishes to a room of
 * one subscriber ({@link warmUpCode}), so that the steps measure its code in
 * its steady state rather than while V8 is still optimizing it, and then a
 * step's worth of publishes to its room at the first rate ({@link WARMUP_MS});
 * both unrecorded, all servers at once.
 *
 * `--rate` runs one step at a fixed publish rate instead of the ladder (for
 * A/B runs of two builds and for CPU profiles of a steady state). `--rounds K`
 * repeats it K times, the targets alternating in ABBA order, and reports each
 * target's median p50/p99 over the rounds: one step's p99 moves by 2x from
 * run to run on this machine, so one pair of steps cannot say which server
 * has the lower tail at a light rate.
 *
 * `--deliveries D1,D2,...` runs fixed steps too, at D deliveries a second: a
 * room of n subscribers at D/n publishes/s, each rate with its `--rounds`.
 * `npm run bench:same-rate` uses it for issue 12's p99 comparison at light
 * loads, with the rounds' medians; the ladder's one 4-s step per rate is a
 * p99 over the slowest few publishes, and moves by 2x from run to run.
 *
 * Publishes leave at a constant rate, checked every `--tick-ms` (default 1):
 * below 1,000/s one at a time, evenly spaced. `--tick-ms 10` reproduces the
 * pacing of sessions 1-13, which sent R/100 publishes back to back every 10 ms.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SioClient } from "./lib/sio-client.js";
import { KEEP_UP_RATIO, quiesce, runFanoutStep } from "./lib/fanout-step.js";
import { benchDatabase } from "./lib/database.js";
import { ask } from "./lib/ipc.js";
import { runOverlapped } from "./lib/overlapped.js";
import { climbTogether } from "./lib/ladder.js";
import { mapLimited } from "./lib/limited.js";
import { argChoice, argValue, runHeader, writeRun, sinceStart } from "./lib/report.js";
import { ROOM, TARGET_NAMES, httpPeerPublisher, startTarget, type Target } from "./lib/targets.js";
import { benchSwitchboardEnv } from "./lib/server-process.js";
import { geometricMean, processCpuSeconds, signTestTwoSided } from "./lib/stats.js";

const args = process.argv.slice(2);
const arg = (name: string) => argValue(args, name);
const quick = args.includes("--quick");
const SIZES = (arg("--sizes") ?? (quick ? "100,1000" : "100,1000,5000")).split(",").map(Number);
const TARGETS = argChoice(args, "--targets", TARGET_NAMES, TARGET_NAMES, "list");
const BISECTIONS = Number(arg("--bisections") ?? 2);
const DB = argChoice(args, "--db", ["postgres", "pglite"], "postgres");
const PEER_PUBLISH = argChoice(args, "--publish", ["http", "socket"], "http");
const FIXED_RATE = arg("--rate") ? Number(arg("--rate")) : undefined;
const DELIVERIES = arg("--deliveries")?.split(",").map(Number);
/** The fixed publish rates a room of `n` runs at (`--rate`, or `--deliveries` over n), or none: the ladder. */
const fixedRates = (n: number): number[] | undefined => (FIXED_RATE ? [FIXED_RATE] : DELIVERIES?.map((d) => d / n));
const FIXED = FIXED_RATE !== undefined || DELIVERIES !== undefined;
const STEP_MS = FIXED && arg("--seconds") ? Number(arg("--seconds")) * 1000 : quick ? 1500 : 4000;
const ROUNDS = Number(arg("--rounds") ?? 1);
if (FIXED_RATE !== undefined && DELIVERIES) {
  console.error("--rate and --deliveries are alternatives; give one");
  process.exit(2);
}
if ((FIXED_RATE !== undefined && !(FIXED_RATE > 0)) || DELIVERIES?.some((d) => !(d > 0))) {
  console.error("--rate and --deliveries take positive numbers");
  process.exit(2);
}
const TICK_MS = Number(arg("--tick-ms") ?? 1);
if (!Number.isInteger(TICK_MS) || TICK_MS < 1) {
  console.error("--tick-ms takes a positive integer (milliseconds)");
  process.exit(2);
}
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || (ROUNDS > 1 && !FIXED)) {
  console.error("--rounds takes a positive integer, and only with --rate or --deliveries");
  process.exit(2);
}
const WORKERS = 2;
/**
 * The ladder's first rate: 10,000 deliveries/s, but at least 12 publishes a
 * step. A p99 over fewer publishes is the slowest publish or two, not a
 * percentile (5,000 subscribers at 2/s gave 3 publishes a step), and those
 * steps cost the full run about 9 s.
 */
const startRate = (n: number) => Math.max(10_000 / n, 12 / (STEP_MS / 1000), 1);
/**
 * Unrecorded publishing at the first rate before the first step, every server
 * at once: as long as a step, and at least 1 s (`BENCH_WARMUP_MS` overrides).
 *
 * Why as long as a step: with a 1-s warm-up per server, one after the other
 * (sessions 18-22), the first 6-s step of `--rounds` at 100 subscribers read
 * the highest p99 of its server's rounds in every run, and the order puts
 * Switchboard first: 8.0-10.6 ms in five runs against 5.1-7.9 in its other
 * rounds. With the order reversed (`--targets socketio,switchboard`, two
 * runs) plain Socket.IO's first step was its highest instead (7.6 and 10.8
 * against 4.4-6.1). With a step-long warm-up the early steps are still the
 * slowest, but for both servers: in 16 runs Switchboard's first round was its
 * highest in 9 and plain's (the second step) in 14, and Switchboard's margin
 * over its next round fell from 2.9-3.4 ms in four of the five runs before to
 * 0.3-1.4 ms in eight of those nine and 2.1 in one (session 23, BENCHMARKS.md).
 * A room of 100 connects in about a second, so those first steps were the
 * first seconds of freshly started processes (server, workers, harness); what
 * in them costs the tail was not pinned down.
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? Math.max(1000, STEP_MS));
/** Publishes every server serves before that, to a room of one subscriber (see {@link warmUpCode}). */
const CODE_WARMUP_PUBLISHES = 3000;
const CODE_WARMUP_ROOM = "warmup";

/** Publisher for the Socket.IO-speaking peers: a socket of its own asking the server to broadcast. */
async function socketPublisher(url: string) {
  const client = new SioClient(url, "");
  await client.connected;
  return async (event: string, data: unknown, room = ROOM) => void (await client.request("publish", { room, event, data }));
}

/** The subscribers (0..n-1) worker `i` holds: every {@link WORKERS}-th. */
const share = (n: number, i: number) => Array.from({ length: n }, (_, k) => k).filter((k) => k % WORKERS === i);

/** A server under test with its room's subscribers connected, ready for steps. */
interface Loaded {
  name: Target["name"];
  target: Target;
  workers: ChildProcess[];
  stop(): Promise<void>;
}

/**
 * Engine.IO's ping interval, the same in every server here (Engine.IO's default):
 * each socket is pinged this long after its handshake, then after every pong.
 */
const PING_INTERVAL_MS = 25_000;
/** Rooms this large connect over a whole {@link PING_INTERVAL_MS} (see {@link load}). */
const SPREAD_FROM = 1000;

/**
 * Starts one server (Switchboard on a fresh store) and connects and joins its
 * `n` subscribers, spread over its own workers.
 *
 * A room of {@link SPREAD_FROM} or more connects evenly over one ping
 * interval, as clients arriving over time would, rather than as fast as the
 * server takes them. Why: each socket's pings follow its handshake every 25 s,
 * so a room connected in seconds is pinged in bursts (5,000 subscribers:
 * about 9 s of every 25), and whether a burst fell inside a server's measured
 * step differed by server (session 20, 1,000 subscribers at 5/s: Switchboard's
 * two steps answered 0 and 0 pings, plain Socket.IO's 200 and 800). Spread, every
 * step of n subscribers answers about n x step / 25 s of them, whichever
 * server it measures. The servers connect side by side, so the spread costs
 * about one ping interval per size rather than one per server.
 */
async function load(name: Target["name"], n: number): Promise<Loaded> {
  const db = name === "switchboard" ? await benchDatabase(DB) : undefined;
  // Forked before the server starts, so that their own start (loading their modules) overlaps its.
  const workers = Array.from({ length: WORKERS }, () => fork(fileURLToPath(new URL("./fanout-worker.ts", import.meta.url)), { execArgv: ["--import", "tsx"] }));
  // The harness owns the store (it drops it afterwards), so its settings come last.
  const target = await startTarget(name, PEER_PUBLISH === "socket" ? socketPublisher : httpPeerPublisher, { ...benchSwitchboardEnv(), ...db?.env }).catch(async (err: unknown) => {
    for (const w of workers) w.kill();
    await db?.drop();
    throw err;
  });
  const stop = async () => {
    for (const w of workers) w.send({ type: "exit" });
    await target.stop();
    await db?.drop();
  };
  try {
    await Promise.all(
      workers.map(async (w, i) => {
        const tokens = await Promise.all(share(n, i).map((k) => target.token(`sub${k}`)));
        await ask(w, { type: "connect", url: target.url, tokens, join: target.join, spreadMs: n >= SPREAD_FROM ? PING_INTERVAL_MS : 0 }, "connected");
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, target, workers, stop };
}

/**
 * Brings a server's per-publish code to its steady state before anything is
 * measured: 3,000 publishes, 16 in flight, to a room whose one subscriber is
 * the harness, the same for every server.
 *
 * Why: V8 optimizes a function after enough calls, and a publish's own code
 * (HTTP, API key, validation, the broker, the emit; once per publish, unlike
 * the per-socket code a room's broadcast runs hundreds of times) was still
 * being optimized 3,000 publishes into a fresh Switchboard (`--trace-opt`,
 * BENCHMARKS.md session 18). The ladder's early steps fell inside that: at
 * 100 subscribers its 400/s step starts about 2,200 publishes in, and read
 * 1.3-3.7x plain Socket.IO's p99 in most full runs in BENCHMARKS.md (1.53 and
 * 1.75 in session 18's two runs without this warm-up, 0.95 and 1.19 in its
 * two with it). Plain Socket.IO's handler is a few lines and warms within the
 * first step. A server in service has long passed this point; the ladder
 * measures that server, and its setup says so.
 */
async function warmUpCode(l: Loaded): Promise<void> {
  const client = new SioClient(l.target.url, await l.target.token("warmup"));
  try {
    await client.connected;
    await client.request(...l.target.joinRoom(CODE_WARMUP_ROOM));
    let received = 0;
    client.on("bench:warmup", () => received++);
    await mapLimited(Array.from({ length: CODE_WARMUP_PUBLISHES }), 16, () => l.target.publish("bench:warmup", { t: 0 }, CODE_WARMUP_ROOM));
    for (const deadline = performance.now() + 10_000; received < CODE_WARMUP_PUBLISHES && performance.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    if (received < CODE_WARMUP_PUBLISHES) throw new Error(`${l.name}: ${received} of ${CODE_WARMUP_PUBLISHES} warm-up publishes arrived`);
  } finally {
    client.close();
  }
}

/** One server's steps at one room size, as the JSON reports them. */
type SizeResult = { target: Target["name"]; subscribers: number; round?: number; maxSustainedDeliveredPerSecond: number; maxSustainedRate: number; steps: Awaited<ReturnType<typeof runFanoutStep>>[] };

/** Starts every server and connects its room of `n`, side by side (see {@link load}); all or none. */
async function loadAll(n: number): Promise<Loaded[]> {
  console.error(`[bench:fanout] ${sinceStart()} ${TARGETS.join(", ")}, ${n} subscribers: connecting`);
  const settled = await Promise.allSettled(TARGETS.map((name) => load(name, n)));
  const loaded = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    // A server that loaded is stopped with the rest if another failed.
    await Promise.all(loaded.map((l) => l.stop()));
    throw failed.reason;
  }
  console.error(`[bench:fanout] ${sinceStart()} ${n} subscribers connected`);
  return loaded;
}

/**
 * Measures every loaded server at one room size `n`: the warm-up step, then
 * the ladders (or `--rounds` at fixed rates), the servers taking turns (see
 * {@link climbTogether}): one server publishes while the others' rooms sit
 * idle (their only traffic is Engine.IO's ping every 25 s per socket), so two
 * servers' steps at the same rate are seconds apart rather than a whole ladder
 * apart.
 */
async function measureSize(loaded: Loaded[], n: number): Promise<SizeResult[]> {
  const runStep = async (l: Loaded, rate: number, stepMs = STEP_MS) => {
    const step = await runFanoutStep({ workers: l.workers, subscribers: n, rate, stepMs, tickMs: TICK_MS, publish: l.target.publish, pids: [l.target.pid], quiesce: false });
    // A backlog must land before the next step of any server, not only of this one: it holds the CPU.
    if (!step.complete) await quiesce(l.workers);
    return step;
  };
  const logged = async (l: Loaded, rate: number) => {
    const step = await runStep(l, rate);
    console.error(`  ${sinceStart()} ${l.name} n=${n} rate=${rate}/s delivered=${step.deliveredPerSecond}/s ratio=${step.deliveredRatio} p50=${step.latencyMs.p50}ms p99=${step.latencyMs.p99}ms server=${step.serverCpuPercent}% client=${step.clientCpuPercent}% publisher=${step.publisherCpuPercent}% perWrite=${step.deliveriesPerWriteSyscall} heartbeats=${step.heartbeats}`);
    return step;
  };
  // Warm-up, not recorded, every server at once: the first seconds of a fresh server run unoptimized
  // code and open the publisher's connections, which would otherwise land in the first step's tail.
  const rates = fixedRates(n);
  await Promise.all(loaded.map((l) => runStep(l, rates?.[0] ?? startRate(n), WARMUP_MS)));
  const byName = new Map(loaded.map((l) => [l.name, l]));
  const results: SizeResult[] = [];
  if (rates) {
    // Rounds alternate the servers' order (ABBA), so neither always runs right after the other.
    let turn = 0;
    for (const rate of rates) {
      for (let round = 0; round < ROUNDS; round++, turn++) {
        for (const l of turn % 2 === 0 ? loaded : [...loaded].reverse()) {
          const step = await logged(l, rate);
          const sustained = step.keptUp ? step : undefined;
          results.push({ target: l.name, subscribers: n, ...(ROUNDS > 1 && { round }), maxSustainedDeliveredPerSecond: sustained?.deliveredPerSecond ?? 0, maxSustainedRate: sustained?.rate ?? 0, steps: [step] });
        }
      }
    }
  } else {
    const ladders = await climbTogether(TARGETS, startRate(n), 2_000_000 / n, BISECTIONS, (name, rate) => logged(byName.get(name)!, rate));
    for (const [name, { steps, sustained }] of ladders) {
      results.push({ target: name, subscribers: n, maxSustainedDeliveredPerSecond: sustained?.deliveredPerSecond ?? 0, maxSustainedRate: sustained?.rate ?? 0, steps });
    }
  }
  return results;
}

/**
 * `--fresh-per-size` (sessions 1-26): every size on servers started for it.
 * `previousStopped` is the previous size's stop: it may go on while these
 * servers start and connect (nothing is measured then), and must be over
 * before the warm-up. Resolves with the results and this size's own stop,
 * which the next size overlaps in the same way.
 */
async function runFreshSize(n: number, previousStopped: Promise<void>) {
  const loaded = await loadAll(n);
  const stopAll = () => Promise.all(loaded.map((l) => l.stop())).then(() => {});
  try {
    await previousStopped;
    // Every server at once: nothing is measured, each gets the same publishes, and the
    // rooms are connected (during a spread connect, a busy server would bunch its handshakes).
    await Promise.all(loaded.map((l) => warmUpCode(l)));
    console.error(`[bench:fanout] ${sinceStart()} code warmed up`);
    return { result: await measureSize(loaded, n), stopped: stopAll() };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The least a shrink waits before the next size's warm-up: Switchboard's
 * default offline grace (2 s, `PRESENCE_OFFLINE_GRACE_MS`), after which the
 * departed subscribers' users go offline (announcements, lastSeen writes),
 * and half a second for that work.
 */
const SHRINK_SETTLE_MIN_MS = 2500;
/** A server counts as settled below this share of a core over {@link SETTLE_WINDOW_MS}. */
const SETTLE_CPU = 0.1;
const SETTLE_WINDOW_MS = 500;
/** The longest a shrink waits for the servers to settle. */
const SHRINK_SETTLE_MAX_MS = 10_000;

/**
 * Shrinks every server's room to `n`: each worker closes all but an even
 * sample of its subscribers, taken over the order they connected in, so the
 * heartbeats of a room connected over a ping interval stay spread over it.
 * Then waits until every server is quiet again: at least
 * {@link SHRINK_SETTLE_MIN_MS}, then until each used under
 * {@link SETTLE_CPU} of a core over the last {@link SETTLE_WINDOW_MS}
 * (at most {@link SHRINK_SETTLE_MAX_MS}). Resolves with how long it took.
 */
async function shrink(loaded: Loaded[], n: number): Promise<{ closeMs: number; settleMs: number }> {
  const started = performance.now();
  await Promise.all(loaded.flatMap((l) => l.workers.map((w, i) => ask(w, { type: "shrink", keep: share(n, i).length }, "shrunk"))));
  const closed = performance.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + SHRINK_SETTLE_MIN_MS - performance.now())));
  const pids = loaded.map((l) => l.target.pid);
  while (performance.now() - started < SHRINK_SETTLE_MAX_MS) {
    const before = await Promise.all(pids.map((pid) => processCpuSeconds(pid)));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
    const after = await Promise.all(pids.map((pid) => processCpuSeconds(pid)));
    if (after.every((cpu, i) => (cpu - before[i]!) / (SETTLE_WINDOW_MS / 1000) < SETTLE_CPU)) break;
  }
  return { closeMs: Math.round(closed - started), settleMs: Math.round(performance.now() - closed) };
}

/**
 * The default: every size on one set of servers, largest first. The servers
 * start and connect the largest room once, and each smaller size is that room
 * shrunk ({@link shrink}). Why: a room of 1,000 or more connects over a whole
 * ping interval (see {@link load}), 25 s a size, and each size's start, connect
 * and code warm-up cost the full run (`npm run bench`) about 40 s of its 6
 * minutes in session 25, against issue 12's "about 5"; connecting again what
 * was just closed measures nothing new. What a shrink changes, measured in
 * alternation with `--fresh-per-size`, is in BENCHMARKS.md (session 27).
 */
async function runShrinking(sizes: number[]): Promise<{ results: SizeResult[]; shrinks: { to: number; closeMs: number; settleMs: number }[] }> {
  const loaded = await loadAll(sizes[0]!);
  const results: SizeResult[] = [];
  const shrinks = [];
  try {
    await Promise.all(loaded.map((l) => warmUpCode(l)));
    console.error(`[bench:fanout] ${sinceStart()} code warmed up`);
    for (const [i, n] of sizes.entries()) {
      if (i > 0) {
        const took = await shrink(loaded, n);
        shrinks.push({ to: n, ...took });
        console.error(`[bench:fanout] ${sinceStart()} rooms shrunk to ${n} (closing ${took.closeMs} ms, settling ${took.settleMs} ms)`);
      }
      results.push(...(await measureSize(loaded, n)));
    }
    return { results, shrinks };
  } finally {
    await Promise.all(loaded.map((l) => l.stop()));
  }
}

/**
 * Latency at the same rate, for issue 12's "p99 no worse than plain Socket.IO":
 * per size, every rate plain Socket.IO ran and kept up with that every other
 * target ran too (ladders share their doubling steps), with each target's
 * p50/p99 and server CPU, and Switchboard's p99 over plain's.
 */
function sameRate(rows: typeof results) {
  const out = [];
  for (const n of SIZES) {
    const bySize = rows.filter((r) => r.subscribers === n);
    const plain = bySize.find((r) => r.target === "socketio");
    if (!plain || bySize.length < 2) continue;
    for (const base of plain.steps.filter((s) => s.keptUp)) {
      const steps = bySize.map((r) => ({ target: r.target, step: r.steps.find((s) => s.rate === base.rate) }));
      if (steps.some((s) => !s.step)) continue;
      const sb = steps.find((s) => s.target === "switchboard")?.step;
      out.push({
        subscribers: n,
        rate: base.rate,
        targets: Object.fromEntries(steps.map(({ target, step }) => [target, { p50: step!.latencyMs.p50, p99: step!.latencyMs.p99, serverCpuPercent: step!.serverCpuPercent }])),
        switchboardP99VsPlain: sb ? Math.round((sb.latencyMs.p99 / base.latencyMs.p99) * 100) / 100 : undefined,
      });
    }
  }
  return out.sort((a, b) => a.subscribers - b.subscribers || a.rate - b.rate);
}

/**
 * The same-rate comparison over `--rounds` (issue 12's p99 at a light load,
 * `npm run bench:same-rate`): per size and rate, each target's median p50 and
 * p99 over the rounds with every round's p99 and server CPU, Switchboard's
 * median p99 over plain Socket.IO's, and in how many rounds Switchboard's p99
 * was at or below plain's of the same round (the two ran back to back).
 */
function overRounds(rows: typeof results) {
  const out = [];
  for (const n of SIZES) {
    for (const rate of fixedRates(n) ?? []) {
      const byTarget = new Map(TARGETS.map((name) => [name, rows.filter((r) => r.subscribers === n && r.target === name && r.steps[0]!.rate === rate).map((r) => r.steps[0]!)]));
      const targets = Object.fromEntries(
        [...byTarget].map(([name, steps]) => [
          name,
          {
            p50: median(steps.map((s) => s.latencyMs.p50)),
            p99: median(steps.map((s) => s.latencyMs.p99)),
            p99ByRound: steps.map((s) => s.latencyMs.p99),
            serverCpuByRound: steps.map((s) => s.serverCpuPercent),
            heartbeatsByRound: steps.map((s) => s.heartbeats),
            roundsKeptUp: steps.filter((s) => s.keptUp).length,
          },
        ]),
      );
      const sb = byTarget.get("switchboard");
      const plain = byTarget.get("socketio");
      const both = sb && plain && sb.length > 0 && plain.length > 0;
      out.push({
        subscribers: n,
        rate,
        targets,
        switchboardP99VsPlain: both ? Math.round((targets.switchboard!.p99 / targets.socketio!.p99) * 100) / 100 : undefined,
        switchboardRoundsAtOrBelowPlain: both ? sb.filter((s, i) => plain[i] && s.latencyMs.p99 <= plain[i]!.latencyMs.p99).length : undefined,
      });
    }
  }
  return out;
}

/**
 * Every cell's rounds pooled, one pair per round (a server against plain
 * Socket.IO in the same round, back to back): in how many pairs its p99 was at
 * or under plain's, the sign test's p for that split, the geometric mean of
 * the p99 ratios, and in how many pairs its server CPU was at or under. One
 * cell's four rounds cannot tell a 10% difference from this machine's noise;
 * the pooled pairs of a run (24 with the default cells) are the reading of
 * "p99 no worse than plain Socket.IO at the same rate". Raw ws, when run,
 * shows how far the ceiling itself moves by the same measure.
 */
function pooledPairs(rows: typeof results) {
  const out = [];
  for (const name of TARGETS.filter((t) => t !== "socketio")) {
    const ratios: number[] = [];
    let p99AtOrUnder = 0;
    let cpuAtOrUnder = 0;
    for (const row of rows.filter((r) => r.target === name)) {
      const plain = rows.find((r) => r.target === "socketio" && r.subscribers === row.subscribers && r.round === row.round && r.steps[0]!.rate === row.steps[0]!.rate);
      if (!plain) continue;
      const [mine, theirs] = [row.steps[0]!, plain.steps[0]!];
      ratios.push(mine.latencyMs.p99 / theirs.latencyMs.p99);
      if (mine.latencyMs.p99 <= theirs.latencyMs.p99) p99AtOrUnder++;
      if (mine.serverCpuPercent <= theirs.serverCpuPercent) cpuAtOrUnder++;
    }
    if (ratios.length === 0) continue;
    const round2 = (v: number) => Math.round(v * 100) / 100;
    out.push({ target: name, pairs: ratios.length, p99AtOrUnder, signTestP: round2(signTestTwoSided(ratios.length, p99AtOrUnder)), p99RatioGeometricMean: round2(geometricMean(ratios)), serverCpuAtOrUnder: cpuAtOrUnder });
  }
  return out;
}

const FRESH_PER_SIZE = args.includes("--fresh-per-size");
const DESCENDING = [...new Set(SIZES)].sort((a, b) => b - a);
const { results, shrinks } = FRESH_PER_SIZE
  ? { results: (await runOverlapped(SIZES, (n, previousStopped) => runFreshSize(n, previousStopped))).flat(), shrinks: undefined }
  : await runShrinking(DESCENDING);
results.sort((a, b) => a.subscribers - b.subscribers);

const run = {
  ...(await runHeader("fanout", `npm run bench:fanout -- ${args.join(" ")}`.trim())),
  setup: { workers: WORKERS, switchboardDatabase: DB, peerPublish: PEER_PUBLISH === "socket" ? "a Socket.IO socket (publish event)" : "HTTP POST /publish, keep-alive", stepMs: STEP_MS, codeWarmup: `${CODE_WARMUP_PUBLISHES} publishes, 16 in flight, to a room of one subscriber, before the first step`, warmupMs: WARMUP_MS, publishTickMs: TICK_MS, ladder: FIXED ? `one step at ${FIXED_RATE ? `${FIXED_RATE}/s` : `each of ${DELIVERIES!.join(", ")} deliveries/s`}${ROUNDS > 1 ? `, ${ROUNDS} rounds` : ""}` : `from 10,000 deliveries/s (at least 12 publishes a step), doubling until behind, then ${BISECTIONS} geometric bisections`, interleaved: "all servers of a size run side by side and take turns, step by step, the order reversed at each rate (or round)", rooms: FRESH_PER_SIZE ? "fresh servers for each size" : `one set of servers; the largest room connected once, then shrunk for each smaller size (largest first)`, keepUpRatio: KEEP_UP_RATIO },
  ...(shrinks && { shrinks }),
  results,
  sameRate: ROUNDS > 1 ? [] : sameRate(results),
  ...(ROUNDS > 1 && { overRounds: overRounds(results), pooled: pooledPairs(results) }),
};
const file = await writeRun(run);

console.log(`\nfan-out benchmark, commit ${run.commit}, ${run.date}, ${run.machine.cpus} CPUs, written to ${file}\n`);
console.log("| subscribers | server | max sustained publish rate | delivered msg/s | vs plain Socket.IO | p50 / p99 / p99.9 ms at that rate | server CPU | client CPU | publisher CPU |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const peer = results.find((x) => x.subscribers === r.subscribers && x.target === "socketio");
  const step = r.steps.find((s) => s.rate === r.maxSustainedRate);
  const ratio = peer && peer.maxSustainedDeliveredPerSecond > 0 ? (r.maxSustainedDeliveredPerSecond / peer.maxSustainedDeliveredPerSecond).toFixed(2) : "-";
  const l = step?.latencyMs;
  console.log(
    `| ${r.subscribers} | ${r.target} | ${r.maxSustainedRate}/s | ${r.maxSustainedDeliveredPerSecond} | ${ratio}x | ${l ? `${l.p50} / ${l.p99} / ${l.p999}` : "-"} | ${step?.serverCpuPercent ?? "-"}% | ${step?.clientCpuPercent ?? "-"}% | ${step?.publisherCpuPercent ?? "-"}% |`,
  );
}
/** The median of a few numbers (the rounds' p50s or p99s): with an even count, the mean of the middle two. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const value = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(value * 100) / 100;
}

if (run.overRounds) {
  console.log(`\nover ${ROUNDS} rounds at each rate (medians; each round's p99 in order):\n`);
  console.log("| subscribers | rate | server | median p50 ms | median p99 ms | p99 by round, ms | server CPU by round | heartbeats by round | switchboard p99 vs plain (medians) | rounds switchboard's p99 <= plain's |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of run.overRounds) {
    for (const [name, t] of Object.entries(row.targets)) {
      const verdict = name === "switchboard" ? ` ${row.switchboardP99VsPlain ?? "-"} | ${row.switchboardRoundsAtOrBelowPlain ?? "-"} of ${ROUNDS} |` : " | |";
      console.log(`| ${row.subscribers} | ${row.rate}/s | ${name} | ${t.p50} | ${t.p99} | ${t.p99ByRound.join(", ")} | ${t.serverCpuByRound.map((c) => `${c}%`).join(", ")} | ${t.heartbeatsByRound.join(", ")} |${verdict}`);
    }
  }
}
if (run.pooled) {
  console.log(`\nevery cell's rounds pooled, one pair per round against plain Socket.IO (sign test: p under 0.05 tells the two apart):\n`);
  for (const p of run.pooled) {
    console.log(`- ${p.target}: p99 at or under plain's in ${p.p99AtOrUnder} of ${p.pairs} pairs (sign test p = ${p.signTestP}); p99 ratio, geometric mean ${p.p99RatioGeometricMean}; server CPU at or under plain's in ${p.serverCpuAtOrUnder} of ${p.pairs}`);
  }
}
if (run.sameRate.length > 0) {
  console.log("\nat the same rate (every rate plain Socket.IO kept up with and every server ran):\n");
  console.log(`| subscribers | rate | ${TARGETS.map((t) => `${t} p50 / p99 ms`).join(" | ")} | switchboard p99 vs plain | server CPU, ${TARGETS.join(" / ")} |`);
  console.log(`|---|---|${TARGETS.map(() => "---|").join("")}---|---|`);
  for (const row of run.sameRate) {
    const cells = TARGETS.map((t) => row.targets[t]);
    console.log(
      `| ${row.subscribers} | ${row.rate}/s | ${cells.map((c) => (c ? `${c.p50} / ${c.p99}` : "-")).join(" | ")} | ${row.switchboardP99VsPlain ?? "-"} | ${cells.map((c) => (c ? `${c.serverCpuPercent}%` : "-")).join(" / ")} |`,
    );
  }
}
process.exit(0);

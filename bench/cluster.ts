/**
 * Cross-node fan-out (issue 7): one room of N subscribers spread evenly over
 * 1 node and then over 3 nodes of one deployment (same Postgres, same Redis),
 * in the same run. The app backend publishes to one node (`POST /v1/events`);
 * with 3 nodes two thirds of the deliveries cross Redis. The publish rate is
 * stepped up until delivery falls behind, as in the fan-out benchmark.
 * Target: p99 with 3 nodes under 2x the single-node p99 at the same rate.
 *
 *   npm run bench:cluster -- [--quick] [--subscribers 3000] [--nodes 1,3]
 *
 * DATABASE_URL and REDIS_URL default to the local Postgres and Redis; the run
 * uses a schema and key prefix of its own and drops the schema afterwards.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { KEEP_UP_RATIO, runFanoutStep } from "./lib/fanout-step.js";
import { ask } from "./lib/ipc.js";
import { argValue, runHeader, writeRun } from "./lib/report.js";
import { startSwitchboard, type ServerProcess } from "./lib/server-process.js";
import { SWITCHBOARD_BENCH_ENV, SWITCHBOARD_JOIN, benchToken, publishEvent } from "./lib/targets.js";

const args = process.argv.slice(2);
const arg = (name: string) => argValue(args, name);
const quick = args.includes("--quick");
const SUBSCRIBERS = Number(arg("--subscribers") ?? (quick ? 300 : 3000));
const NODE_COUNTS = (arg("--nodes") ?? "1,3").split(",").map(Number);
const STEP_MS = quick ? 2000 : 4000;
const RATES = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
const WORKERS = 2;
const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";

async function runNodes(count: number) {
  const schema = `bench_cluster_${Date.now()}_${count}`;
  const env = { ...SWITCHBOARD_BENCH_ENV, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: "4", REDIS_URL, REDIS_PREFIX: schema };
  const nodes: ServerProcess[] = [];
  const workers = Array.from({ length: WORKERS }, () => fork(fileURLToPath(new URL("./fanout-worker.ts", import.meta.url)), { execArgv: ["--import", "tsx"] }));
  try {
    // One after another: the first creates the schema and runs the migrations.
    for (let i = 0; i < count; i++) nodes.push(await startSwitchboard({ ...env, NODE_ID: `bench-${i + 1}` }));
    // Subscriber k connects to node k % count: an even spread, as a balancer would make it.
    await Promise.all(
      workers.map(async (w, i) => {
        const share = Array.from({ length: SUBSCRIBERS }, (_, k) => k).filter((k) => k % WORKERS === i);
        const tokens = await Promise.all(share.map((k) => benchToken(`sub${k}`)));
        const urls = share.map((k) => nodes[k % count]!.url);
        await ask(w, { type: "connect", urls, tokens, join: SWITCHBOARD_JOIN }, "connected");
      }),
    );
    const steps = [];
    for (const rate of RATES) {
      if (rate * SUBSCRIBERS > 2_000_000) break; // beyond any 2-core box; skip rather than flood
      const step = await runFanoutStep({
        workers,
        subscribers: SUBSCRIBERS,
        rate,
        stepMs: STEP_MS,
        publish: (event, data) => publishEvent(nodes[0]!.url, event, data),
        pids: nodes.map((n) => n.pid),
      });
      steps.push(step);
      console.error(`  ${count} node(s) rate=${rate}/s delivered=${step.deliveredPerSecond}/s ratio=${step.deliveredRatio} p99=${step.latencyMs.p99}ms servers=${step.serverCpuPercent}%`);
      if (!step.keptUp) break;
    }
    const sustained = steps.filter((s) => s.keptUp).at(-1);
    return { nodes: count, subscribers: SUBSCRIBERS, maxSustainedDeliveredPerSecond: sustained?.deliveredPerSecond ?? 0, maxSustainedRate: sustained?.rate ?? 0, steps };
  } finally {
    for (const w of workers) w.send({ type: "exit" });
    await Promise.all(nodes.map((n) => n.stop()));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  }
}

const results: Awaited<ReturnType<typeof runNodes>>[] = [];
for (const count of NODE_COUNTS) {
  console.error(`[bench:cluster] ${count} node(s), ${SUBSCRIBERS} subscribers`);
  results.push(await runNodes(count));
}

// p99 at every rate all node counts sustained, and the issue's ratio at the highest of them.
const single = results.find((r) => r.nodes === 1);
const common = Math.min(...results.map((r) => r.maxSustainedRate));
const p99At = (r: (typeof results)[number], rate: number) => r.steps.find((s) => s.rate === rate)?.latencyMs.p99;
const comparison = results
  .filter((r) => r !== single)
  .map((r) => {
    const ratio = single && p99At(single, common) && p99At(r, common) ? Math.round((p99At(r, common)! / p99At(single, common)!) * 100) / 100 : undefined;
    return { nodes: r.nodes, rate: common, p99Ms: p99At(r, common), singleNodeP99Ms: single && p99At(single, common), p99Ratio: ratio, targetMet: ratio !== undefined ? ratio < 2 : undefined };
  });

const run = {
  ...(await runHeader("cluster", `npm run bench:cluster -- ${args.join(" ")}`.trim())),
  setup: { subscribers: SUBSCRIBERS, workers: WORKERS, stepMs: STEP_MS, rates: RATES, keepUpRatio: KEEP_UP_RATIO, publisher: "POST /v1/events to node 1" },
  results,
  comparison,
};
const file = await writeRun(run);

console.log(`\ncross-node fan-out benchmark, commit ${run.commit}, ${run.date}, ${run.machine.cpus} CPUs, ${SUBSCRIBERS} subscribers, written to ${file}\n`);
console.log("| nodes | max sustained publish rate | delivered msg/s | p50 / p99 / p99.9 ms at that rate | servers' CPU | client CPU |");
console.log("|---|---|---|---|---|---|");
for (const r of results) {
  const step = r.steps.find((s) => s.rate === r.maxSustainedRate);
  const l = step?.latencyMs;
  console.log(`| ${r.nodes} | ${r.maxSustainedRate}/s | ${r.maxSustainedDeliveredPerSecond} | ${l ? `${l.p50} / ${l.p99} / ${l.p999}` : "-"} | ${step?.serverCpuPercent ?? "-"}% | ${step?.clientCpuPercent ?? "-"}% |`);
}
for (const c of comparison) {
  console.log(`\nat ${c.rate}/s: ${c.nodes} nodes p99 ${c.p99Ms ?? "-"} ms vs 1 node ${c.singleNodeP99Ms ?? "-"} ms = ${c.p99Ratio ?? "-"}x (target < 2x: ${c.targetMet === undefined ? "-" : c.targetMet ? "met" : "not met"})`);
}
process.exit(0);

/**
 * `npm run bench`: every scenario of issue 12 in one bounded run on this
 * machine, each against the servers it compares (Switchboard, plain Socket.IO,
 * raw ws where they apply), then the charts of latency against rate.
 *
 *   npm run bench             # 5.1, 5.2 and 5.5 minutes in session 29 (AMD host; a faster host state climbs more fan-out steps), 5.4 in session 28 (AMD host, slow state), 5.5 in session 27 (AMD host; fan-out rooms shrunk, not reconnected, per size), 6.1 in session 25 and 5.9 in session 24 (AMD host), 6.0 and 6.4 in session 23 (AMD host, warm-ups side by side), 5.6 in session 22 (Intel host; rooms of 1,000 and more connect over a ping interval since session 21), 6.0 in session 21 (AMD), 4.1-4.4 in session 18 (Intel host, fast state), 5.0-5.1 in session 17 (Intel, servers taking turns), 4.2-4.6 in session 14 (Intel), 5.4-5.9 in session 13 (AMD); the issue aims at 5
 *   npm run bench -- --quick  # about 1 minute: smaller sizes, shorter steps
 *
 * Each scenario script writes its own JSON to bench/results/ and prints a
 * Markdown table; this runner prints them together, draws
 * bench/results/<date>-fanout.svg and -rooms.svg and writes a summary JSON that
 * names every file of the run.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { lineChart, type Series } from "./lib/chart.js";
import { resultsDir, runHeader, writeRun } from "./lib/report.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const BENCH = fileURLToPath(new URL(".", import.meta.url));

/** Scenario scripts and their flags, in the order run. */
const SCENARIOS: [string, string[]][] = quick
  ? [
      ["fanout.ts", ["--quick", "--sizes", "100,1000"]],
      ["rooms.ts", ["--quick", "--rooms", "300"]],
      ["connections.ts", ["--quick"]],
    ]
  : [
      // One bisection (answers within about 41%) keeps the full run near its time budget.
      ["fanout.ts", ["--quick", "--sizes", "100,1000,5000", "--bisections", "1"]],
      ["rooms.ts", ["--quick", "--bisections", "1"]],
      ["connections.ts", []],
      ["chat.ts", ["--quick", "--db", "both"]],
      ["bridge.ts", ["--quick"]],
    ];

/** Runs one scenario script, echoing its output; resolves with its stdout. */
function runScenario(script: string, flags: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...flags], { cwd: BENCH, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.once("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${script} exited ${code}`))));
  });
}

interface StepLike {
  rate: number;
  deliveredPerSecond: number;
  latencyMs: { p99: number };
}

/** p99 latency against delivered messages/s, one line per server (and size). */
function latencySeries(results: { target: string; subscribers?: number; steps: StepLike[] }[]): Series[] {
  return results.map((r) => ({
    label: r.subscribers ? `${r.target}, ${r.subscribers} subs` : r.target,
    points: r.steps.map((s) => ({ x: s.deliveredPerSecond, y: s.latencyMs.p99 })),
  }));
}

const started = performance.now();
const files: Record<string, string> = {};
/** Wall-clock seconds of each scenario, to see where the run's time budget goes. */
const seconds: Record<string, number> = {};
for (const [script, flags] of SCENARIOS) {
  console.error(`\n[bench] ${script} ${flags.join(" ")}`);
  const scenarioStarted = performance.now();
  const out = await runScenario(script, flags);
  const name = script.replace(/\.ts$/, "");
  seconds[name] = Math.round((performance.now() - scenarioStarted) / 100) / 10;
  const file = /written to (\S+)/.exec(out)?.[1];
  if (file) files[name] = file;
}

const run = { ...(await runHeader("all", `npm run bench -- ${args.join(" ")}`.trim())), files, seconds, charts: {} as Record<string, string>, minutes: 0 };
const stamp = run.date.replace(/[:.]/g, "-");
for (const [name, title] of [
  ["fanout", "Fan-out: p99 publish-to-receive latency vs delivered messages/s"],
  ["rooms", "1,000 rooms x 5: p99 send-to-receive latency vs delivered messages/s"],
] as const) {
  if (!files[name]) continue;
  const data = JSON.parse(await readFile(files[name]!, "utf8"));
  const svg = lineChart(latencySeries(data.results), { title, xLabel: "delivered messages/s (log)", yLabel: "p99 latency, ms (log)" });
  const path = join(resultsDir(), `${name}-${stamp}.svg`);
  await writeFile(path, svg);
  run.charts[name] = path;
}
run.minutes = Math.round(((performance.now() - started) / 60_000) * 10) / 10;
const summary = await writeRun(run);
console.log(`\nall scenarios in ${run.minutes} min; summary ${summary}; charts ${Object.values(run.charts).join(", ")}`);
const speed = run.machine.speedAfterRun;
console.log(`machine speed after the run: ${speed.jsonRoundTripsPerMs} JSON round trips/ms, ${speed.writeSyscallsPerMs} write syscalls/ms, ${speed.loopbackRoundTripMicros} µs per loopback round trip (bench/lib/calibration.ts)`);
process.exit(0);

/**
 * Summarizes the files `lib/broadcast-probe.ts` wrote: per server process,
 * its broadcasts' wall time, the main thread's time on a CPU and waiting for
 * one, and how often it was switched out during a broadcast.
 *
 *   node --import tsx broadcast-summary.ts <dir> [--min-sockets N]
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { argValue } from "./lib/report.js";
import { Samples } from "./lib/stats.js";

interface Row {
  sockets: number;
  wallMs: number;
  runMs: number;
  waitMs: number;
  switches: number;
  server: string;
}

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  console.error("usage: broadcast-summary.ts <dir> [--min-sockets N]");
  process.exit(2);
}
const minSockets = Number(argValue(args, "--min-sockets") ?? 0);

console.log("| server (pid) | broadcasts | sockets | wall p50 / mean ms | on CPU p50 / mean ms | waiting for a CPU, mean ms | switched out, mean |");
console.log("|---|---|---|---|---|---|---|");
for (const name of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
  const rows = readFileSync(join(dir, name), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Row)
    .filter((r) => r.sockets >= minSockets);
  if (rows.length === 0) continue;
  const column = (key: "wallMs" | "runMs" | "waitMs" | "switches") => {
    const samples = new Samples();
    for (const r of rows) samples.add(r[key]);
    return { p50: samples.percentile(50), mean: rows.reduce((sum, r) => sum + r[key], 0) / rows.length };
  };
  const [wall, run, wait, switches] = [column("wallMs"), column("runMs"), column("waitMs"), column("switches")];
  const sizes = [...new Set(rows.map((r) => r.sockets))].join(", ");
  const server = rows[0]!.server.split("/").slice(-2).join("/");
  console.log(`| ${server} (${name.replace(".jsonl", "")}) | ${rows.length} | ${sizes} | ${wall.p50.toFixed(1)} / ${wall.mean.toFixed(1)} | ${run.p50.toFixed(1)} / ${run.mean.toFixed(1)} | ${wait.mean.toFixed(1)} | ${switches.mean.toFixed(0)} |`);
}

/**
 * Garbage collection per fan-out step, from a fan-out result file and the
 * logs `lib/gc-probe.ts` wrote during that run:
 *
 *   cd bench && node --import tsx gc-summary.ts results/fanout-<date>.json /tmp/gc
 *
 * For each step: the server's scavenges and their mean pause, what they
 * promoted a second (the old generation's growth across them), and its
 * mark-compacts. A server's log is the one of its script whose lines cover
 * the step (each room size starts fresh servers).
 */
import { readdirSync, readFileSync } from "node:fs";

interface Step {
  rate: number;
  startedAtMs?: number;
  endedAtMs?: number;
}
interface Result {
  target: string;
  subscribers: number;
  round?: number;
  steps: Step[];
}
interface Collection {
  at: number;
  kind: string;
  ms: number;
  oldBytes: number;
}

const [resultFile, probeDir] = process.argv.slice(2);
if (!resultFile || !probeDir) {
  console.error("usage: gc-summary.ts <fanout result .json> <BENCH_PROBE_DIR of that run>");
  process.exit(2);
}
const SCRIPT: Record<string, string> = { switchboard: "cli.js", socketio: "plain-socketio.ts", "raw-ws": "raw-ws.ts" };

const logs = readdirSync(probeDir)
  .filter((name) => name.startsWith("gc-") && name.endsWith(".log"))
  .map((name) => ({
    name,
    collections: readFileSync(`${probeDir}/${name}`, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line): Collection => {
        const [at, kind, ms, oldBytes] = line.split(" ");
        return { at: Number(at), kind: kind!, ms: Number(ms), oldBytes: Number(oldBytes) };
      }),
  }));

const results = (JSON.parse(readFileSync(resultFile, "utf8")) as { results: Result[] }).results;
console.log("| subscribers | server | rate | round | scavenges | mean scavenge pause ms | promoted KB/s | mark-compacts |");
console.log("|---|---|---|---|---|---|---|---|");
for (const result of results) {
  for (const step of result.steps) {
    if (step.startedAtMs === undefined || step.endedAtMs === undefined) continue;
    const { startedAtMs: from, endedAtMs: to } = step;
    const log = logs.find((l) => l.name.startsWith(`gc-${SCRIPT[result.target]}-`) && l.collections.some((c) => c.at >= from && c.at <= to));
    if (!log) continue;
    let scavenges = 0;
    let pauseMs = 0;
    let promoted = 0;
    let markCompacts = 0;
    let previous: Collection | undefined;
    for (const c of log.collections) {
      const inStep = c.at >= from && c.at <= to;
      if (inStep && c.kind === "mark-compact") markCompacts++;
      if (inStep && c.kind === "scavenge") {
        scavenges++;
        pauseMs += c.ms;
        // Growth since the previous scavenge; a mark-compact in between resets the baseline.
        if (previous?.kind === "scavenge" && c.oldBytes > previous.oldBytes) promoted += c.oldBytes - previous.oldBytes;
      }
      previous = c;
    }
    const seconds = (to - from) / 1000;
    console.log(
      `| ${result.subscribers} | ${result.target} | ${step.rate}/s | ${result.round ?? "-"} | ${scavenges} | ${scavenges ? (pauseMs / scavenges).toFixed(2) : "-"} | ${Math.round(promoted / 1024 / seconds)} | ${markCompacts} |`,
    );
  }
}

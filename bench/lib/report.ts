import { execSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineSpeed, type MachineSpeed } from "./calibration.js";

/** What every result file records about where and how it was measured. */
export interface RunHeader {
  benchmark: string;
  date: string;
  commit: string;
  /** Whether tracked files differed from `commit` (outside bench/results/): then the commit alone does not say what ran. */
  uncommittedChanges: boolean;
  command: string;
  machine: { cpus: number; cpuModel?: string; memoryGiB: number; node: string; speedAfterRun: MachineSpeed };
}

/** Environment variables that change what a run measures; the recorded command names them when set. */
const RUN_ENV = ["BENCH_CLI", "BENCH_NODE_ARGS", "BENCH_SWITCHBOARD_ENV", "BENCH_WINDOW", "BENCH_CHAT_RATE", "BENCH_POOL"] as const;

/** The header of a run of `npm run <script> -- <args>` on this machine, now (with the machine's speed, measured here). */
export async function runHeader(benchmark: string, command: string): Promise<RunHeader> {
  const env = RUN_ENV.filter((name) => process.env[name]).map((name) => `${name}='${process.env[name]}' `).join("");
  return {
    benchmark,
    date: new Date().toISOString(),
    commit: execSync("git rev-parse --short HEAD").toString().trim(),
    uncommittedChanges: execSync("git status --porcelain --untracked-files=no").toString().split("\n").some((line) => line.trim() !== "" && !line.includes("bench/results/")),
    command: env + command,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, speedAfterRun: await machineSpeed() },
  };
}

/**
 * Where result files go: `bench/results/`, or `BENCH_RESULTS_DIR`. Experiments
 * and diagnostics write to `bench/results/tmp/` (git-ignored), so that cleaning
 * up after them never touches a result BENCHMARKS.md cites.
 */
export function resultsDir(): string {
  return process.env.BENCH_RESULTS_DIR ?? fileURLToPath(new URL("../results/", import.meta.url));
}

/** Writes a run to `<resultsDir>/<benchmark>-<date>.json`; resolves with the file's path. */
export async function writeRun(run: RunHeader & Record<string, unknown>): Promise<string> {
  const dir = resultsDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${run.benchmark}-${run.date.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}

/** Reads a flag's value (`--name value`) from argv. */
export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Reads a flag whose value is one of `allowed` (or a comma-separated list of
 * them with `list`), and stops the run with a message naming the choices
 * otherwise. Why: a mistyped name used to fall through to a default branch,
 * so `--targets plain` benchmarked Switchboard on PGlite and labelled it
 * "plain", and `--db postgress` ran PGlite labelled "postgress".
 */
export function argChoice<T extends string>(args: readonly string[], name: string, allowed: readonly T[], fallback: T): T;
export function argChoice<T extends string>(args: readonly string[], name: string, allowed: readonly T[], fallback: readonly T[], list: "list"): T[];
export function argChoice<T extends string>(args: readonly string[], name: string, allowed: readonly T[], fallback: T | readonly T[], list?: "list"): T | T[] {
  const raw = argValue(args, name);
  if (raw === undefined) return Array.isArray(fallback) ? [...fallback] : (fallback as T);
  const values = list ? raw.split(",") : [raw];
  const unknown = values.filter((value) => !(allowed as readonly string[]).includes(value));
  if (unknown.length > 0) {
    console.error(`${name}: ${unknown.map((v) => `"${v}"`).join(", ")} is not one of ${allowed.join(", ")}`);
    process.exit(2);
  }
  return list ? (values as T[]) : (values[0] as T);
}

/** Seconds since this process started, as `[12.3s]`: the stamp of the scenarios' phase logs on stderr. */
export function sinceStart(): string {
  return `[${(performance.now() / 1000).toFixed(1)}s]`;
}

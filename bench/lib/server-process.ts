import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built CLI; BENCH_CLI points at another build (an A/B comparison of two builds in one run). */
const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL("../../packages/server/dist/cli.js", import.meta.url));

/**
 * BENCH_SWITCHBOARD_ENV='{"RECOVERY_WINDOW_MS":"0"}': extra settings for every
 * Switchboard a scenario starts (the harness's own settings still win).
 */
export function benchSwitchboardEnv(): Record<string, string> {
  return process.env.BENCH_SWITCHBOARD_ENV ? JSON.parse(process.env.BENCH_SWITCHBOARD_ENV) : {};
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
  /** Ends the process at once (SIGKILL), skipping the graceful stop; resolves once it has exited. */
  kill(): Promise<void>;
}

/** Starts the built Switchboard CLI (what `npm start` runs) and waits for it to listen. */
export async function startSwitchboard(env: Record<string, string>): Promise<ServerProcess> {
  // Through bash only to raise the file limit for many sockets; exec keeps the pid on node.
  // BENCH_NODE_ARGS adds node flags to the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_NODE_ARGS ?? "";
  const child = spawn("bash", ["-c", `ulimit -n 65536 2>/dev/null || true; exec '${process.execPath}' ${nodeArgs} '${CLI}'`], {
    // BENCH_PROBE_DIR: where a preloaded probe (lib/publish-probe.ts, lib/broadcast-probe.ts) writes its file.
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...(process.env.BENCH_PROBE_DIR && { BENCH_PROBE_DIR: process.env.BENCH_PROBE_DIR }),
      ...(process.env.BENCH_PROBE_MIN_ROOM && { BENCH_PROBE_MIN_ROOM: process.env.BENCH_PROBE_MIN_ROOM }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk) => (output += chunk));
  // BENCH_SERVER_LOG=<file> keeps the server's own output (e.g. BENCH_NODE_ARGS=--trace-gc).
  if (process.env.BENCH_SERVER_LOG) {
    const log = createWriteStream(process.env.BENCH_SERVER_LOG, { flags: "a" });
    // --trace-gc times are ms since the process started: this line maps them to the wall clock.
    log.write(`[bench] server spawned at ${new Date().toISOString()}\n`);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}:\n${output}`)));
  });
  return {
    child,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    stop: stopper(child),
    kill: killer(child),
  };
}

/** SIGTERM (the graceful stop), then SIGKILL after 12 s if the process is still there. */
export function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 12_000))]);
    child.kill("SIGKILL");
  };
}

/** SIGKILL, resolved once the process has exited. */
export function killer(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
}

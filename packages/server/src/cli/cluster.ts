import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { loadOrCreateDevSecret, signUserToken } from "../auth/dev-credentials.js";
import type { Config } from "../config/config.js";
import { LoadBalancer } from "./load-balancer.js";

export interface ClusterOptions {
  /** Number of nodes (2..32). */
  nodes: number;
  config: Config;
  /** The environment the nodes inherit. */
  env: NodeJS.ProcessEnv;
  write: (text: string) => void;
}

/** How long the launcher waits for every node's first healthy answer. */
const START_TIMEOUT_MS = 60_000;
/** Crashes of one node within this long make its next restart wait longer. */
const RESTART_WINDOW_MS = 60_000;
const RESTART_MAX_DELAY_MS = 30_000;

/**
 * `switchboard start --cluster N`: N node processes on PORT+1..PORT+N sharing
 * DATABASE_URL and REDIS_URL, plus the round-robin {@link LoadBalancer} on PORT.
 * For trying scale-out on one machine. A node that exits on its own is started
 * again (after 1 s, doubling for one that keeps dying); SIGINT/SIGTERM drain
 * every node and exit. Resolves with an exit code once everything has stopped.
 */
export async function runCluster(options: ClusterOptions): Promise<number> {
  const { config, env, write } = options;
  if (!config.database.url || !config.redisUrl) {
    write(
      "switchboard start --cluster: DATABASE_URL and REDIS_URL must both be set: every node keeps chat, calls and notifications in the same Postgres and shares channel events and rate limits through the same Redis.\n",
    );
    return 1;
  }
  if (config.port === 0 || config.port + options.nodes > 65_535) {
    write(`switchboard start --cluster: PORT must be a fixed port with PORT+${options.nodes} below 65536 (nodes listen on PORT+1..PORT+${options.nodes})\n`);
    return 1;
  }

  // Every node must verify the same tokens; a development secret is made once here, not raced by N nodes.
  const devSecret = !config.jwt.secret && !config.jwt.jwksUrl ? await loadOrCreateDevSecret(config.database.dataDir) : undefined;
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  const base = env.NODE_ID ?? hostname().replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 56);
  const backends = Array.from({ length: options.nodes }, (_, i) => ({ host: "127.0.0.1", port: config.port + 1 + i }));
  const children: ChildProcess[] = [];
  /** Each slot's current process's exit; a restarted node replaces its slot's entry. */
  const exits: Promise<void>[] = [];
  /** When each slot's node last exited unexpectedly, for the restart backoff. */
  const crashes: number[][] = backends.map(() => []);
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  const startNode = (i: number) => {
    const child = spawn(process.execPath, [cli, "start"], {
      env: { ...env, NODE_ID: `${base}-${i + 1}`, PORT: String(backends[i]!.port), HOST: "127.0.0.1", ...(devSecret && { JWT_SECRET: devSecret }) },
      stdio: ["ignore", "inherit", "inherit"],
      // Own process group: Ctrl-C reaches the launcher only, which then drains each node once.
      detached: true,
    });
    children[i] = child;
    exits[i] = new Promise<void>((resolve) =>
      child.once("exit", (code, signal) => {
        resolve();
        if (stopping) return;
        // A node that died is started again, as a process manager would: its clients have
        // reconnected to the others meanwhile, and the balancer sends new ones to it once it
        // answers /healthz. One that keeps dying waits longer each time (1 s, doubling, at most 30 s).
        const now = Date.now();
        const recent = (crashes[i] = [...crashes[i]!.filter((t) => now - t < RESTART_WINDOW_MS), now]);
        const delayMs = Math.min(RESTART_MAX_DELAY_MS, 1000 * 2 ** (recent.length - 1));
        write(`switchboard cluster: node ${i + 1} (port ${backends[i]!.port}) exited (${signal ?? code}); restarting it in ${delayMs / 1000} s\n`);
        const timer = setTimeout(() => {
          restarts.delete(timer);
          if (!stopping) startNode(i);
        }, delayMs);
        restarts.add(timer);
      }),
    );
  };
  backends.forEach((_, i) => startNode(i));
  // Should the launcher die of an error, its nodes must not outlive it.
  const killAll = () => children.forEach((child) => signal(child, "SIGKILL"));
  process.once("exit", killAll);
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));

  let balancer: LoadBalancer | undefined;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    // Each node announces server:shutdown and drains; the balancer stays up until they are gone.
    for (const child of children) signal(child, "SIGTERM");
    const deadline = setTimeout(() => children.forEach((child) => signal(child, "SIGKILL")), config.shutdown.timeoutMs + 2000);
    await Promise.all(exits);
    clearTimeout(deadline);
    await balancer?.close();
    stopped();
  };
  const onSignal = () => void stop();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    balancer = await LoadBalancer.start({
      port: config.port,
      host: config.host,
      backends,
      onHealthChange: (backend, healthy) => {
        if (!stopping) write(`switchboard cluster: node on port ${backend.port} is ${healthy ? "up" : "down"}\n`);
      },
    });
    await waitUntil(() => balancer!.healthyBackends.length === backends.length || stopping, START_TIMEOUT_MS);
  } catch (err) {
    write(`switchboard cluster: ${(err as Error).message}\n`);
    await stop();
    return 1;
  }
  if (!stopping) await printBanner(options, backends.map((b) => b.port), devSecret);
  // Until SIGINT or SIGTERM: nodes that die are started again.
  await done;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.off("exit", killAll);
  return 0;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(name);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not every node answered /healthz within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function printBanner(options: ClusterOptions, ports: number[], devSecret: string | undefined): Promise<void> {
  const host = options.config.host === "0.0.0.0" || options.config.host === "::" ? "localhost" : options.config.host;
  const lines = [
    "",
    `Switchboard cluster: ${ports.length} nodes (ports ${ports.join(", ")}) behind a round-robin balancer on http://${host}:${options.config.port}`,
    "  Socket.IO clients must use the WebSocket transport (no sticky sessions here):",
    `  io("http://${host}:${options.config.port}", { auth: { token }, transports: ["websocket"] })`,
  ];
  if (devSecret) {
    const token = await signUserToken(devSecret, { sub: "demo-user", tenant: "default", name: "Demo User", roles: ["patient"] }, "24h");
    lines.push("", "Development secret shared by the nodes (kept in DATA_DIR):", `  JWT_SECRET=${devSecret}`, "A demo token (user demo-user, tenant default, valid 24 h):", `  ${token}`);
  }
  options.write(`${lines.join("\n")}\n\n`);
}

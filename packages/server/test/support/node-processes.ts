import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/** The built CLI, what `npm start` runs (`npm test` builds before testing). */
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** Every child started here, killed if the test process exits without cleaning up. */
const children = new Set<ChildProcess>();
process.once("exit", () => children.forEach((child) => child.kill("SIGKILL")));

/** A child process the test controls, with its output kept for failure messages. */
export interface Child {
  child: ChildProcess;
  readonly output: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  kill(signal: NodeJS.Signals): void;
}

function track(child: ChildProcess): Child {
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    exited,
    get output() {
      return output;
    },
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Resolves when `pattern` appears in the child's output; rejects on exit or after `ms`. */
export function waitForOutput(c: Child, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms:\n${c.output}`)), ms);
    const onData = () => {
      const match = pattern.exec(c.output);
      if (match) done(undefined, match);
    };
    const onExit = () => done(new Error(`exited before ${pattern}:\n${c.output}`));
    const done = (err?: Error, match?: RegExpExecArray) => {
      clearTimeout(timer);
      c.child.stdout?.off("data", onData);
      c.child.stderr?.off("data", onData);
      c.child.off("exit", onExit);
      if (err) reject(err);
      else resolve(match!);
    };
    c.child.stdout?.on("data", onData);
    c.child.stderr?.on("data", onData);
    c.child.once("exit", onExit);
    onData();
  });
}

/** A Switchboard node: the built CLI in its own process. */
export interface NodeProcess extends Child {
  url: string;
  port: number;
  /** SIGTERM (graceful drain) and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `switchboard start` with `env` on a free port and waits until it listens. */
export async function startNode(env: Record<string, string>): Promise<NodeProcess> {
  const c = runCli(["start"], { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env });
  const match = await waitForOutput(c, /listening on http:\/\/[^:]+:(\d+)/, 30_000);
  const port = Number(match[1]);
  return Object.assign(c, {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      c.kill("SIGTERM");
      await Promise.race([c.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      c.kill("SIGKILL");
    },
  });
}

/** A port nothing listens on right now (`port` 0: any). Rejects when `port` is taken. */
export async function freePort(port = 0): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

/** A port P with P..P+count-1 all free right now (for `--cluster`, which uses PORT+1..PORT+N). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => freePort(base + 1 + i).then(() => true, () => false)));
    if (rest.every(Boolean)) return base;
  }
  throw new Error(`no run of ${count} free ports found`);
}

/** Runs the built CLI with `args` and `env`, as a tracked child (output kept, killed on exit). */
export function runCli(args: string[], env: Record<string, string>): Child {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  return track(spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] }));
}

/** A throwaway Redis the test may kill and restart (never the shared one). */
export interface RedisProcess {
  url: string;
  /** SIGKILL: connections drop at once, nothing is saved. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let current: Child | undefined;
  const start = async () => {
    current = track(spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] }));
    await waitForOutput(current, /Ready to accept connections/, 10_000);
  };
  const kill = async () => {
    current?.kill("SIGKILL");
    await current?.exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}/0`, kill, start, close: kill };
}

/** Polls `condition` every 50 ms until it holds; throws `message` after `ms`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, message: string | (() => string)): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(typeof message === "string" ? message : message());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

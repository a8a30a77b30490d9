import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { databaseEnv, nextEvent, onCleanup } from "./support/server-harness.js";

// The built CLI, exactly what `npm start` runs (`npm test` builds before testing).
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function startCli(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [CLI], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  onCleanup(async () => void child.kill("SIGKILL"));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /Switchboard listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", check);
    exited.then((code) => reject(new Error(`CLI exited with ${code}:\n${output}`)));
  });
  return { child, port, output: () => output, exited };
}

describe("the switchboard CLI", () => {
  it("--help lists the configuration variables", async () => {
    const child = spawn(process.execPath, [CLI, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    for (const name of ["PORT", "JWT_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "DATABASE_URL", "REDIS_URL", "CORS_ORIGINS", "LOG_LEVEL", "DATA_DIR"]) {
      expect(out).toContain(name);
    }
  });

  it("npx switchboard --help, as the README has it, runs the built CLI from the repository root", async () => {
    // `--offline`: a missing link must fail here, not fetch an unrelated `switchboard` package from the registry.
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const child = spawn("npx", ["--offline", "switchboard", "--help"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(out).toContain("RATE_LIMITS");
    expect(code).toBe(0);
  });

  it("a bad value stops the start with a message naming the variable", async () => {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? "", PORT: "seventy", JWT_SECRET: "short" }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(err).toContain("PORT");
    expect(err).toContain("JWT_SECRET: must be at least 16 characters");
  });

  it("without a secret it prints a development secret and a demo token that connects, and keeps the secret across restarts", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-cli-"));
    const env = { ...databaseEnv(), DATA_DIR: dataDir };
    const first = await startCli(env);
    const token = /demo token[^\n]*\n\s+(\S+)/.exec(first.output())?.[1];
    const secret = /JWT_SECRET=(\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    expect((await readFile(join(dataDir, "dev-jwt-secret"), "utf8")).trim()).toBe(secret);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const second = await startCli(env);
    expect(/JWT_SECRET=(\S+)/.exec(second.output())?.[1]).toBe(secret);
    const socket = io(`http://127.0.0.1:${second.port}`, { auth: { token }, transports: ["websocket"], reconnection: false });
    onCleanup(async () => void socket.disconnect());
    const connected = await nextEvent<{ userId: string }>(socket, "connected", 5000);
    expect(connected.userId).toBe("demo-user");
    // Tokens never reach the log.
    expect(second.output()).not.toContain(`"${token}"`);
  });

  it("SIGTERM announces server:shutdown, closes connections and exits 0 within 10 s", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-cli-"));
    const started = await startCli({ ...databaseEnv(), DATA_DIR: dataDir, JWT_SECRET: "lifecycle-secret-0123456789" });
    const { signUserToken } = await import("@switchboard/server");
    const token = await signUserToken("lifecycle-secret-0123456789", { sub: "alice", tenant: "acme" });
    const socket = io(`http://127.0.0.1:${started.port}`, { auth: { token }, transports: ["websocket"], reconnection: false });
    onCleanup(async () => void socket.disconnect());
    await nextEvent(socket, "connected", 5000);

    const shutdown = nextEvent<{ reconnectInMs: number }>(socket, "server:shutdown", 5000);
    const disconnected = nextEvent<string>(socket, "disconnect", 10_000);
    const t0 = Date.now();
    started.child.kill("SIGTERM");
    expect(await shutdown).toEqual({ reconnectInMs: 2000 });
    // A transport close (not a server-side disconnect) so clients reconnect by themselves.
    expect(await disconnected).toBe("transport close");
    expect(await started.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(started.output()).toContain('"msg":"stopped"');
  });
});

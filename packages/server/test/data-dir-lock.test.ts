import { execFile, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { onCleanup } from "./support/server-harness.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const run = promisify(execFile);
const SECRET = "lock-test-secret-0123456789abcdef0123";

/** `switchboard` (the built CLI) on the embedded store in `dataDir`, as `npm start` runs it; resolves once it listens. */
async function startCli(dataDir: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", JWT_SECRET: SECRET, DATA_DIR: dataDir, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
  };
  onCleanup(stop);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk) => (output += chunk) && /listening on/.test(output) && resolve());
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  return { stop };
}

/** Runs the CLI to its end; resolves with its exit code and output. */
async function cli(args: string[], dataDir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", JWT_SECRET: SECRET, DATA_DIR: dataDir } });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("an embedded DATA_DIR belongs to one process at a time", () => {
  it("while a server holds it, key commands and a second server are refused with a message saying why; once it stops they work", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-lock-"));
    const server = await startCli(dataDir);
    const refused = await cli(["keys", "create", "--tenant", "acme"], dataDir);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain(`DATA_DIR ${dataDir} is in use by another Switchboard process`);
    expect(refused.out).toContain("DATABASE_URL");
    const second = await cli(["start"], dataDir);
    expect(second.code).toBe(1);
    expect(second.out).toContain("is in use by another Switchboard process");
    expect(second.out).not.toContain("    at "); // a message, not a stack

    await server.stop();
    const created = await cli(["keys", "create", "--tenant", "acme"], dataDir);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/\nsbk_\S+\n/);
  });

  it("a lock left by a process that is gone (a crash) is taken over", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-lock-"));
    // A pid no process has (Linux pids stay below 2^22).
    await writeFile(join(dataDir, "switchboard.lock"), JSON.stringify({ pid: 2 ** 30, host: hostname() }));
    expect((await cli(["keys", "create", "--tenant", "acme"], dataDir)).code).toBe(0);
    const server = await startCli(dataDir);
    await server.stop();
  });
});

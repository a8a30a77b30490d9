import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoUsersResponse, DevTokenResponse } from "@switchboard/protocol";
import { createServer, loadConfig, type SwitchboardServer } from "@switchboard/server";
import { connectError, onCleanup, startServer } from "./support/server-harness.js";
import { io } from "socket.io-client";

/** A server on its generated development secret (no JWT_SECRET, no JWKS); the caller stops it. */
async function startDevServer(demoDir?: string) {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DATA_DIR: ":memory:" });
  const server = await createServer({ config, demoDir });
  await server.listen();
  return server;
}

async function fakeDemoBuild(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-demo-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>Switchboard demo</title><div id=root></div>");
  await writeFile(join(dir, "assets", "app-1234.js"), "console.log('demo')");
  return dir;
}

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

// Servers start slowly on a busy machine: the dev server with a (fake) demo build is shared by the suite.
// These routes are about HTTP, not the database: in-memory PGlite in both projects.
let server: SwitchboardServer;
let demoDir: string;
beforeAll(async () => {
  demoDir = await fakeDemoBuild();
  server = await startDevServer(demoDir);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rm(demoDir, { recursive: true, force: true });
});

describe("demo sign-in on the development secret", { timeout: 60_000 }, () => {
  it("lists the demo users and signs a token that connects as that user in tenant demo", async () => {
    const users = (await (await fetch(`${server.url}/dev/users`)).json()) as DemoUsersResponse;
    expect(users.tenantId).toBe("demo");
    expect(users.users.map((u) => u.userId)).toEqual(expect.arrayContaining(["dr-ada", "sam", "mia", "lee"]));

    const res = await fetch(`${server.url}/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: "sam" }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DevTokenResponse;
    expect(body.user).toMatchObject({ userId: "sam", roles: ["patient"] });
    expect(body.expiresInSeconds).toBeGreaterThan(3600);

    const socket = io(server.url, { auth: { token: body.token }, transports: ["websocket"], forceNew: true, reconnection: false });
    onCleanup(async () => void socket.disconnect());
    const connected = await new Promise<{ userId: string; tenantId: string }>((resolve, reject) => {
      socket.once("connected", resolve);
      socket.once("connect_error", reject);
    });
    expect(connected).toMatchObject({ userId: "sam", tenantId: "demo" });
  });

  it("refuses users outside the demo list and malformed bodies", async () => {
    const post = (body: unknown) => fetch(`${server.url}/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const unknown = await post({ userId: "admin" });
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("not_found");
    const bad = await post({ userId: "" });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe("bad_request");
  });

  it("does not exist when a JWT_SECRET is configured", async () => {
    const { url } = await startServer({ demoDir: "/nonexistent" });
    const token = await fetch(`${url}/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: "sam" }) });
    expect(token.status).toBe(404);
    expect((await fetch(`${url}/dev/users`)).status).toBe(404);
    // And a token from elsewhere is still refused.
    const err = await connectError(url, { auth: { token: "not-a-jwt" } });
    expect(err.data?.code).toBe("token_invalid");
  });
});

describe("the demo app at /", { timeout: 60_000 }, () => {
  it("serves the built files without shadowing API paths", async () => {
    expect(server.demoApp).toBe(true);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("Switchboard demo");
    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const unknownApi = await fetch(`${server.url}/v1/nothing-here`);
    expect(unknownApi.status).toBe(404);
    expect(await errorCode(unknownApi)).toBe("not_found");
    const missingAsset = await fetch(`${server.url}/assets/missing.js`);
    expect(missingAsset.status).toBe(404);
    expect((await fetch(`${server.url}/assets/../../package.json`)).status).toBe(404);
  });

  it("answers / with a short note when the demo was not built, and the server still works", async () => {
    const unbuilt = await startDevServer(join(tmpdir(), "sb-demo-never-built"));
    onCleanup(() => unbuilt.stop());
    expect(unbuilt.demoApp).toBe(false);
    const page = await fetch(`${unbuilt.url}/`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain("npm run build");
    expect((await fetch(`${unbuilt.url}/healthz`)).status).toBe(200);
  });
});

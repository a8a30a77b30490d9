import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@switchboard/server";
import { nextEvent, request, sleep, startServer } from "./support/server-harness.js";

const ACME_KEY = "acme-key-0123456789abcdef";
const GLOBEX_KEY = "globex-key-0123456789abcdef";
const env = { API_KEYS: `acme:${ACME_KEY},globex:${GLOBEX_KEY}`, PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" };

async function get(url: string, key?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe("API key authentication", () => {
  it("a missing, malformed or wrong key is 401 unauthorized in the error format", async () => {
    const { url } = await startServer({ env });
    const missing = await get(`${url}/v1/presence?userIds=bob`);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("missing API key") } });
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await get(`${url}/v1/presence?userIds=bob`, `${ACME_KEY}x`)).body.error).toEqual({ code: "unauthorized", message: "invalid API key" });
    expect((await get(`${url}/v1/presence?userIds=bob`, ACME_KEY.slice(0, -1))).status).toBe(401);
    const basic = await fetch(`${url}/v1/users/bob/online`, { headers: { authorization: `Basic ${ACME_KEY}` } });
    expect(basic.status).toBe(401);
  });

  it("with no API_KEYS configured every request is 401", async () => {
    const { url } = await startServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0" } });
    expect((await get(`${url}/v1/users/bob/online`, ACME_KEY)).status).toBe(401);
  });

  it("authentication comes before validation: a bad query without a key is 401, not 400", async () => {
    const { url } = await startServer({ env });
    expect((await get(`${url}/v1/presence`)).status).toBe(401);
  });

  it("API_KEYS entries are validated with a message per bad entry that never shows the key", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ API_KEYS: "acme:short-secret,no-separator-0123456789,bad tenant:0123456789abcdef01,acme:0123456789abcdefXYZ,globex:0123456789abcdefXYZ" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      "API_KEYS: entry 1 (tenant acme): the key must be at least 16 characters",
      "API_KEYS: entry 2 must be tenant:key",
      "API_KEYS: entry 3 has a bad tenant id (1-64 characters of A-Z a-z 0-9 _ . -)",
      "API_KEYS: entry 5 (tenant globex): the same key is listed twice",
    ]);
    expect(error!.message).not.toContain("short-secret");
    expect(error!.message).not.toContain("0123456789abcdefXYZ");
    const config = loadConfig({ API_KEYS: ` acme:${ACME_KEY} , acme:with:colons:0123456789 ` });
    expect(config.apiKeys).toEqual([
      { tenantId: "acme", key: ACME_KEY },
      { tenantId: "acme", key: "with:colons:0123456789" },
    ]);
    expect(loadConfig({}).apiKeys).toEqual([]);
  });
});

describe("GET /v1/presence", () => {
  it("answers the presence of the named users of the key's tenant, in order, unknown users offline", async () => {
    const { url, connect } = await startServer({ env });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "rounds" } });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    carol.socket.disconnect();
    await sleep(150);
    const res = await get(`${url}/v1/presence?userIds=nobody,bob,carol`, ACME_KEY);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      presence: [
        { userId: "nobody", status: "offline", lastSeen: null, custom: null },
        { userId: "bob", status: "busy", lastSeen: null, custom: { text: "rounds" } },
        { userId: "carol", status: "offline", lastSeen: expect.any(String), custom: null },
      ],
    });
    // Repeated parameters and spaces are accepted too.
    const repeated = await get(`${url}/v1/presence?userIds=bob&userIds=%20carol%20`, ACME_KEY);
    expect(repeated.body.presence.map((p: { userId: string }) => p.userId)).toEqual(["bob", "carol"]);
  });

  it.each([
    ["missing", ""],
    ["empty", "?userIds="],
    ["only commas", "?userIds=,,"],
    ["an invalid id", "?userIds=bob,bad%20id"],
    ["over 500 ids", `?userIds=${Array.from({ length: 501 }, (_, i) => `u${i}`).join(",")}`],
  ])("userIds %s is 400 bad_request", async (_name, query) => {
    const { url } = await startServer({ env });
    const res = await get(`${url}/v1/presence${query}`, ACME_KEY);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(res.body.error.message).toMatch(/userIds/);
  });

  it("500 ids is within the limit", async () => {
    const { url } = await startServer({ env });
    const res = await get(`${url}/v1/presence?userIds=${Array.from({ length: 500 }, (_, i) => `u${i}`).join(",")}`, ACME_KEY);
    expect(res.status).toBe(200);
    expect(res.body.presence).toHaveLength(500);
  });
});

describe("GET /v1/users/{id}/online", () => {
  it("is online while a device is connected, then offline with lastSeen", async () => {
    const { url, connect } = await startServer({ env });
    const watcher = await connect({ sub: "alice", tenant: "acme" });
    await request(watcher.socket, "presence:subscribe", { userIds: ["bob"] });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    expect((await get(`${url}/v1/users/bob/online`, ACME_KEY)).body).toEqual({ userId: "bob", online: true, status: "online", lastSeen: null });
    await request(bob.socket, "presence:setStatus", { status: "away" });
    expect((await get(`${url}/v1/users/bob/online`, ACME_KEY)).body).toMatchObject({ online: true, status: "away" });
    const offline = nextEvent<{ status: string }>(watcher.socket, "presence:changed");
    bob.socket.disconnect();
    expect((await offline).status).toBe("offline");
    const after = await get(`${url}/v1/users/bob/online`, ACME_KEY);
    expect(after.body).toEqual({ userId: "bob", online: false, status: "offline", lastSeen: expect.any(String) });
  });

  it("a user appearing offline reads offline here too", async () => {
    const { url, connect } = await startServer({ env });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "offline" });
    expect((await get(`${url}/v1/users/bob/online`, ACME_KEY)).body).toMatchObject({ online: false, status: "offline" });
  });

  it("the longest valid user id is answered, even percent-encoded; one character more is 400 bad_request", async () => {
    const { url } = await startServer({ env });
    const longest = "@".repeat(128);
    expect((await get(`${url}/v1/users/${encodeURIComponent(longest)}/online`, ACME_KEY)).body).toEqual({ userId: longest, online: false, status: "offline", lastSeen: null });
    const res = await get(`${url}/v1/users/${"x".repeat(129)}/online`, ACME_KEY);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect((await get(`${url}/v1/users/bad%20id/online`, ACME_KEY)).status).toBe(400);
  });
});

describe("tenant scoping of the HTTP API", () => {
  it("a key's tenant never sees another tenant's users", async () => {
    const { url, connect } = await startServer({ env });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "acme only" } });
    expect((await get(`${url}/v1/users/bob/online`, GLOBEX_KEY)).body).toEqual({ userId: "bob", online: false, status: "offline", lastSeen: null });
    expect((await get(`${url}/v1/presence?userIds=bob`, GLOBEX_KEY)).body).toEqual({ presence: [{ userId: "bob", status: "offline", lastSeen: null, custom: null }] });
    expect((await get(`${url}/v1/presence?userIds=bob`, ACME_KEY)).body.presence[0]).toMatchObject({ status: "busy", custom: { text: "acme only" } });
  });
});

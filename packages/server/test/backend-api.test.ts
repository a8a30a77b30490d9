import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { collect, databaseEnv, nextEvent, sleep, startServer } from "./support/server-harness.js";
import { startReceiver } from "./support/http-receiver.js";
import { WsTestClient } from "./support/ws-client.js";
import { ok } from "./support/chat-helpers.js";

const ACME_KEY = "acme-key-0123456789abcdef";
const GLOBEX_KEY = "globex-key-0123456789abcdef";
const env = { API_KEYS: `acme:${ACME_KEY},globex:${GLOBEX_KEY}` };

async function post(url: string, path: string, key: string | undefined, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key && { authorization: `Bearer ${key}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("the backend API (API keys)", () => {
  it("POST /v1/events reaches Socket.IO and plain-WS subscribers of that channel, and no one else", async () => {
    const { url, token, connect } = await startServer({ env });
    const sio = await connect({ sub: "alice", tenant: "acme" });
    await ok(sio.socket, "room:join", { room: "topic:clinic" });
    const ws = await WsTestClient.open(url, await token({ sub: "bob", tenant: "acme" }));
    ws.send({ type: "subscribe", channel: "topic:clinic" });
    await ws.next((f) => f.type === "subscribed");
    const outsider = await connect({ sub: "carol", tenant: "acme" });
    const otherTenant = await connect({ sub: "alice", tenant: "globex" });
    await ok(otherTenant.socket, "room:join", { room: "topic:clinic" });
    const leaks = [...[outsider, otherTenant].map((c) => collect(c.socket, "appointment:created"))];

    const atSio = nextEvent<any>(sio.socket, "appointment:created");
    const res = await post(url, "/v1/events", ACME_KEY, { channel: "topic:clinic", event: "appointment:created", data: { id: 7 } });
    expect(res).toEqual({ status: 202, body: { channels: ["topic:clinic"], event: "appointment:created" } });
    expect(await atSio).toEqual({ id: 7 });
    expect((await ws.next((f) => f.type === "appointment:created")).data).toEqual({ id: 7 });
    await sleep(100);
    expect(leaks.flat()).toEqual([]);
  });

  it("a tenant's key cannot reach another tenant: the key decides the tenant", async () => {
    const { url, connect } = await startServer({ env });
    const acmeBob = await connect({ sub: "bob", tenant: "acme" });
    const globexBob = await connect({ sub: "bob", tenant: "globex" });
    const acmeSeen = collect(acmeBob.socket, "patient:checkin");
    const atGlobex = nextEvent(globexBob.socket, "patient:checkin");
    expect((await post(url, "/v1/events", GLOBEX_KEY, { channel: "user:bob", event: "patient:checkin", data: {} })).status).toBe(202);
    await atGlobex;
    const notified = collect(acmeBob.socket, "notification:new");
    expect((await post(url, "/v1/notifications", GLOBEX_KEY, { userIds: ["bob"], type: "x", title: "for globex bob" })).status).toBe(201);
    await sleep(150);
    expect(acmeSeen).toEqual([]);
    expect(notified).toEqual([]);
  });

  it("missing or wrong keys are 401, bad payloads 400, oversized event or notification data 413, and nothing refused is delivered", async () => {
    const { url, connect } = await startServer({ env: { ...env, MAX_PAYLOAD_BYTES: "200000" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const seen: string[] = [];
    alice.socket.onAny((event) => seen.push(event));
    expect((await post(url, "/v1/events", undefined, { channel: "user:alice", event: "x", data: {} })).status).toBe(401);
    expect((await post(url, "/v1/events", "wrong-key-0123456789abcdef", { channel: "user:alice", event: "x", data: {} })).body.error.code).toBe("unauthorized");
    expect((await post(url, "/v1/events", ACME_KEY, { channel: "user:alice", event: "message:new", data: {} })).status).toBe(400);
    expect((await post(url, "/v1/events", ACME_KEY, { channels: Array.from({ length: 101 }, (_, i) => `topic:t${i}`), event: "x" })).status).toBe(400);
    expect((await post(url, "/v1/events", ACME_KEY, "{broken json")).status).toBe(400);
    const big = await post(url, "/v1/events", ACME_KEY, { channel: "user:alice", event: "x", data: "y".repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    expect((await post(url, "/v1/events", ACME_KEY, { channel: "user:alice", event: "x", data: "y".repeat(300_000) })).status).toBe(413);
    expect((await post(url, "/v1/notifications", ACME_KEY, { userIds: [], type: "x", title: "t" })).status).toBe(400);
    // Notification data has event data's bound: it is stored per recipient and sent in notification:new.
    const bigNote = await post(url, "/v1/notifications", ACME_KEY, { userIds: ["alice"], type: "x", title: "t", data: { blob: "y".repeat(70_000) } });
    expect([bigNote.status, bigNote.body.error.code]).toEqual([413, "payload_too_large"]);
    expect((await post(url, "/v1/notifications", ACME_KEY, { userIds: ["alice"], type: "x", title: "t", data: { blob: "y".repeat(60_000) } })).status).toBe(201);
    await sleep(100);
    expect(seen).toEqual(["notification:new", "notification:unreadCount"]);
    expect((await ok(alice.socket, "notification:list", {})).notifications).toHaveLength(1);
  });

  it("POST /v1/notifications creates and delivers notifications", async () => {
    const { url, connect } = await startServer({ env });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const live = nextEvent<any>(bob.socket, "notification:new");
    const res = await post(url, "/v1/notifications", ACME_KEY, { userIds: ["bob"], type: "lab", title: "Results ready", priority: "high" });
    expect(res.status).toBe(201);
    expect(res.body.created).toBe(1);
    expect((await live).notification).toMatchObject({ id: res.body.notificationIds[0], title: "Results ready", priority: "high" });
  });

  it("user.online and user.offline webhooks follow presence", async () => {
    const receiver = await startReceiver();
    const { connect } = await startServer({ env: { WEBHOOK_URL: receiver.url, PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await receiver.waitFor(1);
    alice.socket.disconnect();
    const hits = await receiver.waitFor(2);
    expect(hits.map((h) => JSON.parse(h.body)).map((p) => [p.type, p.data.userId])).toEqual([
      ["user.online", "alice"],
      ["user.offline", "alice"],
    ]);
  });
});

describe("switchboard keys", () => {
  const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const run = promisify(execFile);

  it("create prints a key once and stores only its hash; the key works until revoked", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-keys-"));
    const db = { ...databaseEnv(), DATA_DIR: dataDir };
    const cliEnv = { PATH: process.env.PATH ?? "", ...db };
    const created = await run(process.execPath, [CLI, "keys", "create", "--tenant", "acme", "--name", "backend"], { env: cliEnv });
    const key = /\n(sbk_\S+)\n/.exec(created.stdout)?.[1];
    const id = /\(id ([0-9a-f-]{36})\)/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    const { url, connect, server } = await startServer({ env: db });
    const { rows } = await server.database.query<{ key_hash: string }>("select key_hash from api_keys");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).not.toContain(key!.slice(4));
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const seen = nextEvent(bob.socket, "ping:me");
    expect((await post(url, "/v1/events", key, { channel: "user:bob", event: "ping:me", data: {} })).status).toBe(202);
    await seen;
    // The embedded database belongs to one process at a time: key commands run while the server is stopped.
    await server.stop();
    await run(process.execPath, [CLI, "keys", "revoke", "--id", id!], { env: cliEnv });
    const again = await startServer({ env: db });
    expect((await post(again.url, "/v1/events", key, { channel: "user:bob", event: "ping:me", data: {} })).status).toBe(401);
    await again.server.stop();
    const listed = await run(process.execPath, [CLI, "keys", "list", "--tenant", "acme"], { env: cliEnv });
    expect(listed.stdout).toContain("revoked");
  });
});

describe("server SDK", () => {
  it("SwitchboardApi (HTTP) and server.forTenant (in-process) publish, notify and read presence the same way", async () => {
    const { SwitchboardApi, SwitchboardApiError } = await import("@switchboard/server");
    const { url, server, connect } = await startServer({ env });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    for (const backend of [new SwitchboardApi({ url, apiKey: ACME_KEY }), server.forTenant("acme")]) {
      const event = nextEvent<any>(bob.socket, "mood_update");
      expect(await backend.publish("user:bob", "mood_update", { score: 2 })).toEqual({ channels: ["user:bob"], event: "mood_update" });
      expect(await event).toEqual({ score: 2 });
      const notified = nextEvent<any>(bob.socket, "notification:new");
      expect((await backend.notify({ userIds: ["bob"], type: "lab", title: "Results ready" })).created).toBe(1);
      expect((await notified).notification.title).toBe("Results ready");
      expect((await backend.presence(["bob", "nobody"])).map((p) => p.status)).toEqual(["online", "offline"]);
      expect(await backend.isOnline("bob")).toMatchObject({ userId: "bob", online: true, status: "online" });
    }
    const wrong = new SwitchboardApi({ url, apiKey: "wrong-key-0123456789abcdef" });
    await expect(wrong.publish("user:bob", "x", {})).rejects.toMatchObject({ code: "unauthorized", status: 401 });
    await expect(new SwitchboardApi({ url, apiKey: ACME_KEY }).publish("user:bob", "message:new", {})).rejects.toBeInstanceOf(SwitchboardApiError);
  });
});

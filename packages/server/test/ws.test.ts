import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket as NetSocket } from "node:net";
import { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { databaseEnv, nextEvent, onCleanup, request, sleep, startServer } from "./support/server-harness.js";
import { WsTestClient } from "./support/ws-client.js";
import { ok } from "./support/chat-helpers.js";
import { IMMEDIATE, getOne, nextChange } from "./support/presence-helpers.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

describe("plain WebSocket endpoint", () => {
  it("a graceful stop finishes its plain WS clients' departures (lastSeen) before the database closes, even a client slow to answer the close", async () => {
    // One database for both servers; the embedded one belongs to one process at a time, so they run one after the other.
    const db = { ...databaseEnv(), DATA_DIR: await mkdtemp(join(tmpdir(), "switchboard-ws-stop-")) };
    const first = await startServer({ env: db });
    const client = await WsTestClient.open(first.url, await first.token({ sub: "slow", tenant: "acme" }));
    client.send({ type: "ping", id: 1 });
    await client.next((f) => f.type === "pong");
    // The client stops reading: the server's close frame gets no answer.
    (client.socket as unknown as { _socket: NetSocket })._socket.pause();
    await first.server.stop();
    const second = await startServer({ env: db });
    expect((await second.server.forTenant("acme").isOnline("slow")).lastSeen).not.toBeNull();
  });

  it("connects with ?token=, answers ping with pong, and keeps going after bad frames", async () => {
    const { url, token } = await startServer();
    const client = await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    client.send({ type: "ping", id: 1 });
    expect(await client.next((f) => f.type === "pong")).toMatchObject({ type: "pong", id: 1 });
    client.send("{not json");
    expect(await client.next((f) => f.type === "error")).toMatchObject({ code: "bad_request", message: "frames must be JSON" });
    client.send({ type: "explode" });
    expect((await client.next((f) => f.type === "error")).code).toBe("bad_request");
    client.send({ type: "subscribe", id: "s9", channel: "Not A Channel" });
    // An invalid frame whose id is valid still gets that id back, to match the error to the request.
    expect(await client.next((f) => f.type === "error")).toMatchObject({ id: "s9", details: [{ path: "channel" }] });
    client.send({ type: "request", id: { nested: true }, event: "presence:get" });
    expect((await client.next((f) => f.type === "error")).id).toBeUndefined();
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.next((f) => f.type === "error")).message).toBe("binary frames are not supported");
    client.send({ type: "ping" });
    expect((await client.next((f) => f.type === "pong")).id).toBeUndefined();
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("refuses the upgrade without a valid token, and unknown WebSocket paths", async () => {
    const { url, token } = await startServer();
    const status = (path: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${url.replace(/^http/, "ws")}${path}`);
        socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        socket.on("open", () => resolve(101));
        socket.on("error", () => {});
      });
    expect(await status("/realtime/ws")).toBe(401);
    expect(await status("/realtime/ws?token=garbage")).toBe(401);
    expect(await status(`/elsewhere?token=${await token({ sub: "a" })}`)).toBe(404);
  });

  it("subscribes under the same authorization rules and receives channel events as { type, channel, data, timestamp }", async () => {
    const { url, token, server, connect } = await startServer();
    const ws = await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    ws.send({ type: "subscribe", id: "s1", channel: "topic:clinic" });
    expect(await ws.next((f) => f.type === "subscribed")).toEqual({ type: "subscribed", id: "s1", channel: "topic:clinic" });
    ws.send({ type: "subscribe", id: "s2", channel: "user:bob" });
    expect(await ws.next((f) => f.id === "s2")).toMatchObject({ type: "error", code: "forbidden" });

    const sio = await connect({ sub: "bob", tenant: "acme" });
    await ok(sio.socket, "room:join", { room: "topic:clinic" });
    const atSio = nextEvent<any>(sio.socket, "appointment:created");
    await server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 7, at: "09:00" } });
    const frame = await ws.next((f) => f.type === "appointment:created");
    expect(frame).toMatchObject({ type: "appointment:created", channel: "topic:clinic", data: { id: 7, at: "09:00" } });
    expect(Date.parse(frame.timestamp)).toBeGreaterThan(0);
    expect(await atSio).toEqual({ id: 7, at: "09:00" });

    // Another tenant's same-named channel gets nothing.
    const other = await WsTestClient.open(url, await token({ sub: "gina", tenant: "globex" }));
    other.send({ type: "subscribe", channel: "topic:clinic" });
    await other.next((f) => f.type === "subscribed");
    await server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: {} });
    await ws.next((f) => f.type === "appointment:created");
    await sleep(100);
    expect(other.frames.filter((f) => f.type === "appointment:created")).toEqual([]);

    ws.send({ type: "unsubscribe", channel: "topic:clinic" });
    await ws.next((f) => f.type === "unsubscribed");
    await server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: {} });
    await sleep(100);
    expect(ws.frames.filter((f) => f.type === "appointment:created")).toEqual([]);
  });

  it("runs any request and gets personal events: a WS client chats with a Socket.IO client", async () => {
    const { url, token, connect } = await startServer();
    const ws = await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    const bob = await connect({ sub: "bob", tenant: "acme" });
    ws.send({ type: "request", id: 1, event: "conversation:create", payload: { type: "direct", participantIds: ["bob"] } });
    const created = await ws.next((f) => f.type === "response" && f.id === 1);
    expect(created.ok).toBe(true);
    const atBob = nextEvent<any>(bob.socket, "message:new");
    ws.send({ type: "request", id: 2, event: "message:send", payload: { conversationId: created.data.conversation.id, body: "from ws" } });
    expect((await ws.next((f) => f.id === 2)).data.message.seq).toBe(1);
    expect((await atBob).message.body).toBe("from ws");
    const reply = ws.next((f) => f.type === "message:new");
    await ok(bob.socket, "message:send", { conversationId: created.data.conversation.id, body: "from socket.io" });
    // Alice's connection joined the conversation by sending: the frame names that channel (docs/protocol.md section 4).
    expect(await reply).toMatchObject({ channel: `conversation:${created.data.conversation.id}`, data: { message: { body: "from socket.io", seq: 2 } } });
    ws.send({ type: "request", id: 3, event: "no:such", payload: {} });
    expect(await ws.next((f) => f.id === 3)).toMatchObject({ type: "response", ok: false, error: { code: "bad_request" } });
  });

  it("subscribe and unsubscribe frames are rate limited and audited as room:join and room:leave are", async () => {
    const { url, token } = await startServer({ env: { RATE_LIMITS: "room=3/10" } });
    const ws = await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    ws.send({ type: "subscribe", id: "a", channel: "topic:ward-3" });
    expect(await ws.next((f) => f.id === "a")).toEqual({ type: "subscribed", id: "a", channel: "topic:ward-3" });
    ws.send({ type: "subscribe", id: "b", channel: "user:bob" });
    expect(await ws.next((f) => f.id === "b")).toMatchObject({ type: "error", code: "forbidden" });
    ws.send({ type: "unsubscribe", id: "c", channel: "topic:ward-3" });
    expect(await ws.next((f) => f.id === "c")).toEqual({ type: "unsubscribed", id: "c", channel: "topic:ward-3" });
    ws.send({ type: "subscribe", id: "d", channel: "topic:ward-4" });
    const limited = await ws.next((f) => f.id === "d");
    expect(limited).toMatchObject({ type: "error", code: "rate_limited" });
    expect(limited.details.retryAfterMs).toBeGreaterThan(0);
    const admin = await token({ sub: "ada", tenant: "acme", roles: ["admin"] });
    const res = await fetch(`${url}/v1/audit?actor=alice`, { headers: { authorization: `Bearer ${admin}` } });
    const rows = ((await res.json()) as any).entries.map((e: any) => [e.action, e.target ?? null, e.result, e.detail ?? null]);
    expect(rows).toContainEqual(["room:join", "topic:ward-3", "ok", null]);
    expect(rows).toContainEqual(["room:join", "user:bob", "denied", "forbidden"]);
    expect(rows).toContainEqual(["room:leave", "topic:ward-3", "ok", null]);
    expect(rows).toContainEqual(["room:join", "topic:ward-4", "denied", "rate_limited"]);
  });

  it("drops a client that stops answering its pings (WS_HEARTBEAT_MS), and its user goes offline", async () => {
    const { url, token, connect } = await startServer({ env: { ...IMMEDIATE, WS_HEARTBEAT_MS: "200" } });
    const { socket: alice } = await connect({ sub: "alice", tenant: "acme" });
    expect((await request<any>(alice, "presence:subscribe", { userIds: ["bob"] })).ok).toBe(true);
    // Bob's device reaches the server through a proxy that can go silent, as a phone leaving coverage does.
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(url).port) });
    onCleanup(() => proxy.close());
    const online = nextChange(alice, "bob");
    const bob = await WsTestClient.open(`http://127.0.0.1:${proxy.port}`, await token({ sub: "bob", tenant: "acme" }));
    expect((await online).status).toBe("online");
    // A client that answers (ws answers pings by itself) stays connected over several intervals.
    await sleep(700);
    expect(bob.socket.readyState).toBe(WebSocket.OPEN);
    expect((await getOne(alice, "bob")).status).toBe("online");
    proxy.stall();
    // Dropped at the second unanswered check (200-400 ms); with the default 20 s this would take 20-40 s.
    expect((await nextChange(alice, "bob", 3000)).status).toBe("offline");
  });

  it("/realtime/health reports the service and active users", async () => {
    const { url, token } = await startServer();
    await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    const body = (await (await fetch(`${url}/realtime/health`)).json()) as any;
    expect(body).toMatchObject({ status: "ok", service: "switchboard", active_users: 1 });
    expect(Date.parse(body.timestamp)).toBeGreaterThan(0);
  });
});

describe("publishing from backend code (library mode)", () => {
  it("refuses reserved or malformed event names, bad channels and oversized data, and delivers nothing", async () => {
    const { server, connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const seen: string[] = [];
    socket.onAny((event) => seen.push(event));
    const code = (p: Promise<unknown>) => p.then(() => "ok", (err) => err.code as string);
    expect(await code(server.publish("acme", { channel: "user:alice", event: "message:new", data: {} }))).toBe("bad_request");
    expect(await code(server.publish("acme", { channel: "user:alice", event: "connect", data: {} }))).toBe("bad_request");
    // What the server sends one connection (section 2), and plain WebSocket's own frame types.
    for (const event of ["token_expired", "session:idle", "response", "subscribed", "unsubscribed"]) {
      expect(await code(server.publish("acme", { channel: "user:alice", event, data: {} }))).toBe("bad_request");
    }
    expect(await code(server.publish("acme", { channel: "user:alice", event: "has space", data: {} }))).toBe("bad_request");
    expect(await code(server.publish("acme", { channel: "nope", event: "x", data: {} }))).toBe("bad_request");
    expect(await code(server.publish("acme", { event: "x", data: {} }))).toBe("bad_request");
    expect(await code(server.publish("acme", { channel: "user:alice", event: "big", data: "x".repeat(70_000) }))).toBe("payload_too_large");
    expect(await code(server.publish("acme", { channels: ["user:alice", "user:alice"], event: "assessment_started", data: { id: 1 } }))).toBe("ok");
    await sleep(100);
    expect(seen).toEqual(["assessment_started"]);
  });
});

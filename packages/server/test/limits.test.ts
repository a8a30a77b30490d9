import { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { connectError, nextEvent, request, sleep, startServer } from "./support/server-harness.js";
import { WsTestClient } from "./support/ws-client.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string; details?: any } };

describe("rate limits and abuse limits", () => {
  it("a family over its limit is answered rate_limited with retryAfterMs; other families and the connection are unaffected", async () => {
    const { connect } = await startServer({ env: { RATE_LIMITS: "room=3/10" } });
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    for (let i = 0; i < 3; i++) expect((await request<Ack>(socket, "room:join", { room: `topic:t${i}` })).ok).toBe(true);
    const limited = await request<Ack>(socket, "room:join", { room: "topic:t4" });
    expect(limited.error?.code).toBe("rate_limited");
    expect(limited.error?.details.retryAfterMs).toBeGreaterThan(0);
    expect(limited.error?.details.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect((await request<Ack>(socket, "room:participants", { room: "topic:t0" })).ok).toBe(true);
    expect(socket.connected).toBe(true);
    // The limit is per user: another user still joins.
    const bob = await connect({ sub: "bob", tenant: "acme" });
    expect((await request<Ack>(bob.socket, "room:join", { room: "topic:t4" })).ok).toBe(true);
  });

  it("a client that keeps hammering past its limit is disconnected", async () => {
    const { connect } = await startServer({ env: { RATE_LIMITS: "other=1/60", ABUSE_THRESHOLD: "5" } });
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const disconnected = nextEvent<string>(socket, "disconnect");
    for (let i = 0; i < 10; i++) socket.emit("spam:event", {});
    expect(await disconnected).toBe("io server disconnect");
  });

  it("a user may hold only MAX_CONNECTIONS_PER_USER connections", async () => {
    const { url, token, connect } = await startServer({ env: { MAX_CONNECTIONS_PER_USER: "2" } });
    await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "alice", tenant: "acme" });
    const err = await connectError(url, { auth: { token: await token({ sub: "alice", tenant: "acme" }) } });
    expect(err.message).toBe("rate_limited");
    expect(err.data?.code).toBe("too_many_connections");
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/realtime/ws?token=x`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => {});
    });
    expect(status).toBe(401);
    expect((await connect({ sub: "bob", tenant: "acme" })).connected.userId).toBe("bob");
  });

  it("handshakes are rate limited per client address", async () => {
    const { url, token, connect } = await startServer({ env: { RATE_LIMITS: "connect=3/60" } });
    for (let i = 0; i < 3; i++) await connect({ sub: `u${i}`, tenant: "acme" });
    const err = await connectError(url, { auth: { token: await token({ sub: "u9", tenant: "acme" }) } });
    expect(err.message).toMatch(/websocket error|xhr poll error|too many/i);
  });

  it("a connection may join at most MAX_ROOMS_PER_CONNECTION rooms", async () => {
    const { connect } = await startServer({ env: { MAX_ROOMS_PER_CONNECTION: "2" } });
    const { socket } = await connect({ sub: "alice", tenant: "acme", roles: ["nurse"] });
    expect((await request<Ack>(socket, "room:join", { room: "topic:a" })).ok).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "topic:b" })).ok).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "topic:a" })).ok).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "topic:c" })).error?.code).toBe("forbidden");
  });
});

describe("session lifetime", () => {
  it("a live connection whose token expires gets token_expired and is disconnected", async () => {
    const { connect, token } = await startServer();
    const jwt = await token({ sub: "alice", tenant: "acme" }, Math.floor(Date.now() / 1000) + 2);
    const { socket } = await connect(jwt);
    const expired = nextEvent<any>(socket, "token_expired", 5000);
    const disconnected = nextEvent<string>(socket, "disconnect", 5000);
    expect((await expired).code).toBe("token_expired");
    expect(await disconnected).toBe("io server disconnect");
  });

  it("an idle session is logged off; an active one stays", async () => {
    const { connect } = await startServer({ env: { SESSION_IDLE_TIMEOUT_MS: "800" } });
    const idle = await connect({ sub: "alice", tenant: "acme" });
    const active = await connect({ sub: "bob", tenant: "acme" });
    const loggedOff = nextEvent<any>(idle.socket, "session:idle", 5000);
    const timer = setInterval(() => active.socket.emit("room:participants", { room: "user:bob" }, () => {}), 200);
    try {
      expect((await loggedOff).idleMs).toBeGreaterThan(800);
      await sleep(300);
      expect(idle.socket.connected).toBe(false);
      expect(active.socket.connected).toBe(true);
    } finally {
      clearInterval(timer);
    }
  });

  it("every idle session is logged off within a check interval of its timeout, however many there are", async () => {
    // The checks are spread over the check interval (1 s) in slices; each connection must still come round once a round.
    const { url, token } = await startServer({ env: { SESSION_IDLE_TIMEOUT_MS: "800", RATE_LIMITS: "connect=1000/10" } });
    const first = await Promise.all(Array.from({ length: 50 }, async (_, i) => WsTestClient.open(url, await token({ sub: `early${i}`, tenant: "acme" }))));
    await sleep(400); // the rest arrive while a round is under way
    const second = await Promise.all(Array.from({ length: 50 }, async (_, i) => WsTestClient.open(url, await token({ sub: `late${i}`, tenant: "acme" }))));
    const started = Date.now();
    const idle = await Promise.all([...first, ...second].map((client) => client.next((f) => f.type === "session:idle", 5000)));
    expect(idle).toHaveLength(100);
    // The late ones' timeout (800 ms) plus one round (1 s) plus slack for a loaded test machine.
    expect(Date.now() - started).toBeLessThan(2600);
  });

  it("a client that never reads is disconnected once its unwritten buffer passes the bound", async () => {
    const { url, token, server } = await startServer({ env: { MAX_BUFFERED_BYTES: "262144" } });
    const ws = await WsTestClient.open(url, await token({ sub: "alice", tenant: "acme" }));
    (ws.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = "x".repeat(60_000);
    for (let i = 0; i < 400; i++) await server.publish("acme", { channel: "user:alice", event: "flood", data: chunk });
    let connections = 1;
    for (let i = 0; i < 40 && connections > 0; i++) {
      await sleep(100);
      connections = ((await (await fetch(`${url}/healthz`)).json()) as any).connections;
    }
    expect(connections).toBe(0);
  });
});

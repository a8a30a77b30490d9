import { describe, expect, it } from "vitest";
import { collect, databaseEnv, onCleanup, request, sleep, startServer, testDb } from "./support/server-harness.js";
import { createGroup, ok } from "./support/chat-helpers.js";
import { hostPort, startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

type Ack = { ok: boolean; error?: { code: string } };

/** A server whose Postgres connections all go through a proxy this test can cut. */
async function serverBehindProxy(env: Record<string, string> = {}) {
  const db = databaseEnv();
  const proxy = await startTcpProxy(hostPort(db.DATABASE_URL!));
  onCleanup(() => proxy.close());
  const t = await startServer({ env: { ...db, DATABASE_URL: proxy.url(db.DATABASE_URL!), API_KEYS: "acme:outage-test-key-0123456789", ...env } });
  return { t, proxy };
}

/** Retries `event` until it is acknowledged ok (the pool reconnects on demand), within `ms`. */
async function okOnceBack(socket: Parameters<typeof request>[0], event: string, payload: unknown, ms = 15_000): Promise<any> {
  const end = Date.now() + ms;
  for (;;) {
    const ack = await request<Ack & { data?: unknown }>(socket, event, payload);
    if (ack.ok) return ack.data;
    expect(ack.error!.code).toBe("unavailable");
    if (Date.now() > end) throw new Error(`${event} still failing after ${ms} ms`);
    await sleep(250);
  }
}

async function withOutage<T>(proxy: TcpProxy, fn: () => Promise<T>, kind: "cut" | "stall" = "cut"): Promise<T> {
  proxy[kind]();
  try {
    return await fn();
  } finally {
    proxy.restore();
  }
}

// Only real Postgres can be cut off over the network; the embedded PGlite has no connection to lose.
describe.runIf(testDb === "postgres")("Postgres unreachable", () => {
  it("sends answer unavailable, nothing is broadcast or stored, the connection stays up, and sending resumes when Postgres is back", { timeout: 40_000 }, async () => {
    const { t, proxy } = await serverBehindProxy();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const bob = await t.connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "before" });
    const atBob = collect<any>(bob.socket, "message:new");
    const disconnects = collect(alice.socket, "disconnect");

    const acks = await withOutage(proxy, async () => {
      const sends = [];
      for (let i = 0; i < 3; i++) sends.push(await request<Ack>(alice.socket, "message:send", { conversationId: id, body: `during ${i}`, clientMessageId: `c${i}` }));
      return sends;
    });
    for (const ack of acks) expect(ack).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(atBob).toEqual([]);
    expect(alice.socket.connected).toBe(true);
    expect(disconnects).toEqual([]);

    // Same clientMessageId retried after the outage: stored once, as the next seq.
    const retried = await okOnceBack(alice.socket, "message:send", { conversationId: id, body: "during 0", clientMessageId: "c0" });
    expect(retried.message.seq).toBe(2);
    const { messages } = await ok(alice.socket, "message:history", { conversationId: id });
    expect(messages.map((m: any) => m.body)).toEqual(["before", "during 0"]);
    await sleep(200);
    expect(atBob.map((e) => e.message.seq)).toEqual([2]);
  });

  it("other writes over Socket.IO and HTTP answer unavailable, not internal, while Postgres is cut", { timeout: 40_000 }, async () => {
    const { t, proxy } = await serverBehindProxy();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    await t.connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const codes = await withOutage(proxy, async () => {
      const socketCodes: Record<string, string | undefined> = {};
      const writes: [string, unknown][] = [
        ["conversation:create", { type: "group", participantIds: ["bob"], title: "x" }],
        ["message:read", { conversationId: id, upToSeq: 0 }],
        ["notification:readAll", {}],
        ["call:initiate", { calleeIds: ["bob"], media: "audio" }],
      ];
      for (const [event, payload] of writes) socketCodes[event] = (await request<Ack>(alice.socket, event, payload)).error?.code;
      const res = await fetch(`${t.url}/v1/notifications`, {
        method: "POST",
        headers: { authorization: "Bearer outage-test-key-0123456789", "content-type": "application/json" },
        body: JSON.stringify({ userIds: ["bob"], type: "lab", title: "Results" }),
      });
      const ready = await fetch(`${t.url}/readyz`);
      return { socketCodes, http: [res.status, ((await res.json()) as any).error?.code], ready: ready.status };
    });
    expect(codes.socketCodes).toEqual({ "conversation:create": "unavailable", "message:read": "unavailable", "notification:readAll": "unavailable", "call:initiate": "unavailable" });
    expect(codes.http).toEqual([503, "unavailable"]);
    expect(codes.ready).toBe(503);
    expect(alice.socket.connected).toBe(true);
    await okOnceBack(alice.socket, "conversation:create", { type: "group", participantIds: ["bob"], title: "after" });
  });

  it("a client connecting while Postgres is cut is still accepted and can send once it is back", { timeout: 40_000 }, async () => {
    const { t, proxy } = await serverBehindProxy();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    proxy.cut();
    let bob;
    try {
      bob = await t.connect({ sub: "bob", tenant: "acme" });
      await sleep(300);
      expect(bob.socket.connected).toBe(true);
    } finally {
      proxy.restore();
    }
    const sent = await okOnceBack(bob.socket, "message:send", { conversationId: id, body: "made it" });
    expect(sent.message.seq).toBe(1);
  });

  it("a partitioned network (Postgres silent, not refusing) answers unavailable after DATABASE_QUERY_TIMEOUT_MS instead of hanging", { timeout: 40_000 }, async () => {
    const { t, proxy } = await serverBehindProxy({ DATABASE_QUERY_TIMEOUT_MS: "1000" });
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const bob = await t.connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const atBob = collect<any>(bob.socket, "message:new");
    const started = Date.now();
    const ack = await withOutage(proxy, () => request<Ack>(alice.socket, "message:send", { conversationId: id, body: "into the void", clientMessageId: "p1" }), "stall");
    expect(ack).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(atBob).toEqual([]);
    // The retry is what stores it; the held-back original was rolled back, so it exists once.
    const retried = await okOnceBack(alice.socket, "message:send", { conversationId: id, body: "into the void", clientMessageId: "p1" });
    expect(retried.message.seq).toBe(1);
    const { messages } = await ok(alice.socket, "message:history", { conversationId: id });
    expect(messages.map((m: any) => m.seq)).toEqual([1]);
  });
});

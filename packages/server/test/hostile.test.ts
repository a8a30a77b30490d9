import { connect as tcpConnect } from "node:net";
import { SignJWT, UnsecuredJWT } from "jose";
import { WebSocket } from "ws";
import type { Socket } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { TEST_SECRET, connectError, nextEvent, onCleanup, request, sleep, startServer, type TestServer } from "./support/server-harness.js";
import { WsTestClient } from "./support/ws-client.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string; details?: any } };
const API_KEY = "acme-key-0123456789abcdef";
const secret = new TextEncoder().encode(TEST_SECRET);

/** The server still works: /healthz answers 200 and a well-behaved client still gets its ack. */
async function assertHealthy(t: TestServer, bystander: Socket): Promise<void> {
  expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  expect(bystander.connected).toBe(true);
  const ack = await request<Ack>(bystander, "room:join", { room: `topic:still-${Math.random().toString(36).slice(2, 8)}` });
  expect(ack.ok).toBe(true);
}

async function withBystander(env: Record<string, string> = {}) {
  const t = await startServer({ env });
  const bystander = (await t.connect({ sub: "bystander", tenant: "acme" })).socket;
  return { t, bystander };
}

/** A raw Engine.IO/Socket.IO WebSocket client, connected to namespace `/`. */
class RawSio {
  readonly packets: string[] = [];
  closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.packets.push(data.toString());
    });
    ws.on("error", () => {});
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(t: TestServer, sub = "mallory"): Promise<RawSio> {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    onCleanup(async () => ws.terminate());
    const raw = new RawSio(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    await raw.next((p) => p.startsWith("0{"));
    ws.send(`40${JSON.stringify({ token: await t.token({ sub, tenant: "acme" }) })}`);
    await raw.next((p) => p.startsWith('42["connected"'));
    return raw;
  }

  next(match: (packet: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    return new Promise((resolve, reject) => {
      const poll = () => {
        const found = this.packets.find(match);
        if (found) return resolve(found);
        if (Date.now() > deadline) return reject(new Error(`no matching packet within ${ms} ms`));
        setTimeout(poll, 10);
      };
      poll();
    });
  }

  /** The ack of `id` parsed: `43<id>[ack]`. */
  async ack(id: number | string): Promise<Ack> {
    const packet = await this.next((p) => p.startsWith(`43${id}[`));
    return JSON.parse(packet.slice(`43${id}`.length))[0];
  }

  closedWithin(ms = 3000): Promise<{ code: number; reason: string }> {
    return Promise.race([this.closed, sleep(ms).then(() => Promise.reject(new Error(`not closed within ${ms} ms`)))]);
  }
}

function wsClosed(ws: WebSocket, ms = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
    ws.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const nested = (depth: number, leaf: unknown = 1) => "[".repeat(depth) + JSON.stringify(leaf) + "]".repeat(depth);

describe("hostile Socket.IO packets over a raw WebSocket", () => {
  it.each([
    ["a garbage string", "hello world"],
    ["an invalid Engine.IO packet type", "9"],
    ["an invalid Socket.IO packet type", "49"],
    ["an EVENT whose payload is not an array", '42{"a":1}'],
    ["an EVENT with an empty array", "425[]"],
    ["invalid JSON in an EVENT", '42["room:join",{'],
    ["a second CONNECT on the same namespace", '40{"token":"x"}'],
  ])("%s closes only that connection (no status) and the server stays up", async (_name, frame) => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send(frame);
    expect((await raw.closedWithin()).code).toBe(1005);
    await assertHealthy(t, bystander);
  });

  it("a binary frame with no pending binary packet closes only that connection", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send(Buffer.from([0xff, 0x00, 0x12]), { binary: true });
    expect((await raw.closedWithin()).code).toBe(1005);
    await assertHealthy(t, bystander);
  });

  it("a text frame of invalid UTF-8 is refused by the WebSocket layer with 1007", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send(Buffer.from([0x34, 0x32, 0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]), { binary: false });
    expect((await raw.closedWithin()).code).toBe(1007);
    await assertHealthy(t, bystander);
  });

  it("a non-string event name is answered bad_request (unknown event) and the connection stays", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send("421[1,2]");
    expect((await raw.ack(1)).error).toMatchObject({ code: "bad_request", message: "unknown event 1" });
    raw.ws.send("422[1,2]".replace("422", "42")); // without an ack id: nothing to answer
    raw.ws.send('423["room:join",{"room":"topic:after"}]');
    expect((await raw.ack(3)).ok).toBe(true);
    await assertHealthy(t, bystander);
  });

  it.each([
    ["null", "null"],
    ["an object", '{"toString":1}'],
    ["an array", '["room:join"]'],
    ["true", "true"],
  ])("an event name that is %s is refused by the parser: only that connection closes", async (_name, eventName) => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send(`425[${eventName},{"room":"topic:a"}]`);
    expect((await raw.closedWithin()).code).toBe(1005);
    expect(raw.packets.filter((p) => p.startsWith("435"))).toEqual([]);
    await assertHealthy(t, bystander);
  });

  it("an event named __proto__ is an unknown event, not a prototype lookup", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('427["__proto__",{}]');
    expect((await raw.ack(7)).error).toMatchObject({ code: "bad_request", message: "unknown event __proto__" });
    raw.ws.send('428["constructor",{}]');
    expect((await raw.ack(8)).error?.code).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("a huge ack id is harmless: the request is answered under that id", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('4299999999999999999999999["room:join",{"room":"topic:a"}]');
    const packet = await raw.next((p) => p.startsWith("431e+23["));
    expect(JSON.parse(packet.slice("431e+23".length))[0]).toEqual({ ok: true, data: { room: "topic:a" } });
    await assertHealthy(t, bystander);
  });

  it("a binary-attachment placeholder without its attachment is held, never dispatched, and nothing crashes", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('451-7["room:join",{"_placeholder":true,"num":0}]');
    await sleep(300);
    expect(raw.packets.filter((p) => p.startsWith("437"))).toEqual([]);
    await assertHealthy(t, bystander);
  });

  it("a placeholder whose num is out of range closes only that connection", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('451-7["room:join",{"_placeholder":true,"num":5}]');
    raw.ws.send(Buffer.from([1, 2]), { binary: true });
    expect((await raw.closedWithin()).code).toBe(1005);
    await assertHealthy(t, bystander);
  });

  it("nested placeholders resolve to a Buffer, which fails the schema with bad_request", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('451-8["room:join",{"room":{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}}]');
    raw.ws.send(Buffer.from([1]), { binary: true });
    const ack = await raw.ack(8);
    expect(ack.error).toMatchObject({ code: "bad_request", details: [{ path: "room" }] });
    await assertHealthy(t, bystander);
  });

  it("a binary payload in a request is bad_request", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send('451-9["message:send",{"_placeholder":true,"num":0}]');
    raw.ws.send(Buffer.from("hello"), { binary: true });
    expect((await raw.ack(9)).error?.code).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("an unknown namespace is refused with a CONNECT_ERROR and the connection stays", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send("40/admin,{}");
    expect(await raw.next((p) => p.startsWith("44/admin,"))).toContain("Invalid namespace");
    raw.ws.send('421["room:join",{"room":"topic:x"}]');
    expect((await raw.ack(1)).ok).toBe(true);
    await assertHealthy(t, bystander);
  });

  it("a frame over MAX_PAYLOAD_BYTES closes that connection with 1009", async () => {
    const { t, bystander } = await withBystander({ MAX_PAYLOAD_BYTES: "4096" });
    const raw = await RawSio.open(t);
    raw.ws.send(`421["message:send",{"body":"${"x".repeat(8000)}"}]`);
    expect((await raw.closedWithin()).code).toBe(1009);
    await assertHealthy(t, bystander);
  });

  it("a request payload nested 10,000 levels deep is bad_request", async () => {
    const { t, bystander } = await withBystander();
    const raw = await RawSio.open(t);
    raw.ws.send(`421["room:join",{"room":${nested(10_000)}}]`);
    expect((await raw.ack(1)).error?.code).toBe("bad_request");
    raw.ws.send(`422["message:send",{"conversationId":"00000000-0000-4000-8000-000000000000","body":"hi","extra":${nested(10_000)}}]`);
    expect((await raw.ack(2)).error?.code).toBe("not_found");
    await assertHealthy(t, bystander);
  });
});

describe("hostile tokens", () => {
  const hs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h");

  it.each([
    ["a forged payload under a valid signature", "token_invalid", async (t: TestServer) => {
      const [h, , s] = (await t.token({ sub: "alice", tenant: "acme" })).split(".");
      return `${h}.${Buffer.from(JSON.stringify({ sub: "admin", tenant: "acme", roles: ["admin"], exp: 9_999_999_999 })).toString("base64url")}.${s}`;
    }],
    ["an expired token", "token_expired", async (t: TestServer) => t.token({ sub: "alice", tenant: "acme" }, Math.floor(Date.now() / 1000) - 10)],
    ["an alg:none token", "token_invalid", async () => new UnsecuredJWT({ sub: "alice", tenant: "acme" }).setExpirationTime("1h").encode()],
    ["an HS512 token signed with the right secret (algorithm pinned)", "token_invalid", async () =>
      new SignJWT({ sub: "alice", tenant: "acme" }).setProtectedHeader({ alg: "HS512" }).setExpirationTime("1h").sign(secret)],
    ["an RS256 header over an HMAC signature (key confusion)", "token_invalid", async () => {
      const good = await hs256({ sub: "alice", tenant: "acme" }).sign(secret);
      const [, p, s] = good.split(".");
      return `${Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url")}.${p}.${s}`;
    }],
    ["a token signed with the wrong secret", "token_invalid", async () => hs256({ sub: "alice", tenant: "acme" }).sign(new TextEncoder().encode("wrong-secret-0123456789abcdef-0123"))],
    ["a tenant claim with a slash (room-name injection)", "token_invalid", async () => hs256({ sub: "alice", tenant: "acme/x" }).sign(secret)],
    ["a sub claim that is an object", "token_invalid", async () => hs256({ sub: { $ne: null } as unknown as string, tenant: "acme" }).sign(secret)],
    ["a token of 100 KB of junk", "token_invalid", async () => "a".repeat(50_000) + "." + "b".repeat(50_000)],
  ])("%s is refused with %s", async (_name, code, make) => {
    const { t, bystander } = await withBystander();
    const err = await connectError(t.url, { auth: { token: await make(t) } });
    expect(err.message).toBe("unauthorized");
    expect(err.data?.code).toBe(code);
    await assertHealthy(t, bystander);
  });

  it("the plain WebSocket upgrade with a forged token is refused with 401", async () => {
    const { t, bystander } = await withBystander();
    const token = await hs256({ sub: "alice", tenant: "acme" }).sign(new TextEncoder().encode("wrong-secret-0123456789abcdef-0123"));
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/realtime/ws?token=${token}`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => {});
    });
    expect(status).toBe(401);
    await assertHealthy(t, bystander);
  });
});

describe("cross-tenant and non-member access", () => {
  it("another tenant's conversation does not exist: get, send, history, read and join answer not_found / forbidden", async () => {
    const { t, bystander } = await withBystander();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const gina = await t.connect({ sub: "alice", tenant: "globex" }); // same user id, other tenant
    expect(await fails(gina.socket, "conversation:get", { conversationId: id })).toBe("not_found");
    expect(await fails(gina.socket, "message:send", { conversationId: id, body: "hi" })).toBe("not_found");
    expect(await fails(gina.socket, "message:history", { conversationId: id })).toBe("not_found");
    expect(await fails(gina.socket, "message:read", { conversationId: id, upToSeq: 1 })).toBe("not_found");
    expect(await fails(gina.socket, "room:join", { room: `conversation:${id}` })).toBe("forbidden");
    expect((await ok(alice.socket, "conversation:get", { conversationId: id })).conversation.id).toBe(id);
    await assertHealthy(t, bystander);
  });

  it("a non-member of the same tenant is forbidden from every conversation request", async () => {
    const { t, bystander } = await withBystander();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const { message } = await ok(alice.socket, "message:send", { conversationId: id, body: "private" });
    const eve = await t.connect({ sub: "eve", tenant: "acme" });
    for (const [event, payload] of [
      ["conversation:get", { conversationId: id }],
      ["message:send", { conversationId: id, body: "x" }],
      ["message:history", { conversationId: id }],
      ["message:edit", { messageId: message.id, body: "pwned" }],
      ["message:delete", { messageId: message.id }],
      ["conversation:addParticipants", { conversationId: id, userIds: ["eve"] }],
      ["typing:start", { conversationId: id }],
      ["room:join", { room: `conversation:${id}` }],
    ] as const) {
      expect(await fails(eve.socket, event, payload), event).toBe("forbidden");
    }
    await assertHealthy(t, bystander);
  });

  it("automatic channels of another user or tenant cannot be joined", async () => {
    const { t, bystander } = await withBystander();
    const eve = await t.connect({ sub: "eve", tenant: "acme" });
    for (const room of ["user:alice", "tenant:globex", "role:admin", "viewers:patient:1"]) expect(await fails(eve.socket, "room:join", { room }), room).toBe("forbidden");
    for (const room of ["../acme/user:alice", "globex/topic:x", "topic:a b", "user:alice\u0000"]) expect(await fails(eve.socket, "room:join", { room }), room).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("call signaling to a non-participant, and call requests by a stranger, are forbidden and forward nothing", async () => {
    const { t, bystander } = await withBystander();
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    const bob = await t.connect({ sub: "bob", tenant: "acme" });
    const eve = await t.connect({ sub: "eve", tenant: "acme" });
    const spied: unknown[] = [];
    eve.socket.on("call:signal", (s) => spied.push(s));
    const incoming = nextEvent<any>(bob.socket, "call:incoming");
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await incoming;
    expect(await fails(alice.socket, "call:signal", { callId: call.id, to: "eve", signal: { type: "offer", sdp: "v=0" } })).toBe("forbidden");
    expect(await fails(eve.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "offer", sdp: "v=0" } })).toBe("forbidden");
    expect(await fails(eve.socket, "call:end", { callId: call.id })).toBe("forbidden");
    expect(await fails(eve.socket, "call:accept", { callId: call.id })).toBe("forbidden");
    const globex = await t.connect({ sub: "bob", tenant: "globex" });
    expect(await fails(globex.socket, "call:accept", { callId: call.id })).toBe("not_found");
    await sleep(100);
    expect(spied).toEqual([]);
    await assertHealthy(t, bystander);
  });

  it("record viewers without an authorization hook are forbidden", async () => {
    const { t, bystander } = await withBystander();
    const eve = await t.connect({ sub: "eve", tenant: "acme" });
    expect(await fails(eve.socket, "presence:viewers", { resource: "patient:42" })).toBe("forbidden");
    expect(await fails(eve.socket, "presence:setActivity", { resource: "patient:42", active: true })).toBe("forbidden");
    expect(await fails(eve.socket, "room:participants", { room: "presence:alice" })).toBe("forbidden");
    await assertHealthy(t, bystander);
  });

  it("presence of a same-named user in another tenant never leaks", async () => {
    const { t, bystander } = await withBystander({ PRESENCE_OFFLINE_GRACE_MS: "0" });
    await t.connect({ sub: "alice", tenant: "acme" });
    const spy = await t.connect({ sub: "spy", tenant: "globex" });
    const { presence } = await ok(spy.socket, "presence:get", { userIds: ["alice"] });
    expect(presence).toEqual([{ userId: "alice", status: "offline", lastSeen: null, custom: null }]);
    await assertHealthy(t, bystander);
  });

  it("reading another user's notification answers not_found and leaves it unread", async () => {
    const { t, bystander } = await withBystander();
    const { notificationIds } = await t.server.notify("acme", { userIds: ["alice"], type: "visit", title: "Your visit" });
    const eve = await t.connect({ sub: "eve", tenant: "acme" });
    expect(await fails(eve.socket, "notification:read", { id: notificationIds[0] })).toBe("not_found");
    const globexAlice = await t.connect({ sub: "alice", tenant: "globex" });
    expect(await fails(globexAlice.socket, "notification:read", { id: notificationIds[0] })).toBe("not_found");
    const alice = await t.connect({ sub: "alice", tenant: "acme" });
    expect((await ok(alice.socket, "notification:getUnreadCount", {})).count).toBe(1);
    await assertHealthy(t, bystander);
  });

  it("crisis requests without a support or admin role are forbidden", async () => {
    const { t, bystander } = await withBystander();
    const patient = await t.connect({ sub: "pat", tenant: "acme", roles: ["patient"] });
    const alertId = "00000000-0000-4000-8000-000000000000";
    expect(await fails(patient.socket, "crisis:acknowledge", { alertId })).toBe("forbidden");
    expect(await fails(patient.socket, "crisis:resolve", { alertId })).toBe("forbidden");
    expect(await fails(patient.socket, "crisis:list", {})).toBe("forbidden");
    await assertHealthy(t, bystander);
  });
});

describe("floods", () => {
  it("an event flood is answered rate_limited, then the connection is closed; others are unaffected", async () => {
    const { t, bystander } = await withBystander({ RATE_LIMITS: "other=3/60", ABUSE_THRESHOLD: "5" });
    const { socket } = await t.connect({ sub: "flooder", tenant: "acme" });
    const disconnected = nextEvent<string>(socket, "disconnect", 5000);
    const acks: Promise<Ack>[] = [];
    for (let i = 0; i < 4; i++) acks.push(request<Ack>(socket, "spam:event", {}));
    const answers = await Promise.all(acks);
    expect(answers[3]!.error?.code).toBe("rate_limited");
    for (let i = 0; i < 20; i++) socket.emit("spam:event", {});
    expect(await disconnected).toBe("io server disconnect");
    await assertHealthy(t, bystander);
  });

  it("a room-join flood is answered rate_limited, then the connection is closed", async () => {
    const { t, bystander } = await withBystander({ RATE_LIMITS: "room=5/60", ABUSE_THRESHOLD: "5" });
    const { socket } = await t.connect({ sub: "joiner", tenant: "acme" });
    const disconnected = nextEvent<string>(socket, "disconnect", 5000);
    const answers: Ack[] = [];
    for (let i = 0; i < 6; i++) answers.push(await request<Ack>(socket, "room:join", { room: `topic:r${i}` }));
    expect(answers.slice(0, 5).every((a) => a.ok)).toBe(true);
    expect(answers[5]!.error?.code).toBe("rate_limited");
    for (let i = 0; i < 20; i++) socket.emit("room:join", { room: `topic:x${i}` });
    expect(await disconnected).toBe("io server disconnect");
    await assertHealthy(t, bystander);
  });

  it("a plain-WebSocket request flood is answered rate_limited, then closed with 1008", async () => {
    const { t, bystander } = await withBystander({ RATE_LIMITS: "room=2/60", ABUSE_THRESHOLD: "3" });
    const ws = await WsTestClient.open(t.url, await t.token({ sub: "wsflood", tenant: "acme" }));
    for (let i = 0; i < 3; i++) ws.send({ type: "request", id: i, event: "room:join", payload: { room: `topic:w${i}` } });
    expect((await ws.next((f) => f.type === "response" && f.id === 2)).error.code).toBe("rate_limited");
    const closed = wsClosed(ws.socket, 5000);
    for (let i = 3; i < 30; i++) ws.send({ type: "request", id: i, event: "room:join", payload: { room: `topic:w${i}` } });
    expect(await closed).toBe(1008);
    await assertHealthy(t, bystander);
  });

  it("a Socket.IO client that never reads is dropped once its buffer passes MAX_BUFFERED_BYTES", async () => {
    const { t, bystander } = await withBystander({ MAX_BUFFERED_BYTES: "65536" });
    const raw = await RawSio.open(t, "sleeper");
    (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = "x".repeat(60_000);
    let connections = 2;
    for (let i = 0; i < 60 && connections > 1; i++) {
      for (let j = 0; j < 10; j++) await t.server.publish("acme", { channel: "user:sleeper", event: "flood", data: chunk });
      await sleep(100);
      connections = ((await (await fetch(`${t.url}/healthz`)).json()) as any).connections;
    }
    expect(connections).toBe(1);
    await assertHealthy(t, bystander);
  });
});

describe("hostile plain-WebSocket frames on /realtime/ws", () => {
  it.each([
    ["not JSON", "{not json", "frames must be JSON"],
    ["a JSON number", "42", undefined],
    ["JSON null", "null", undefined],
    ["a JSON array", '[{"type":"ping"}]', undefined],
    ["an unknown frame type", '{"type":"explode"}', undefined],
    ["a request for an unknown event", '{"type":"request","event":"__proto__","payload":{}}', undefined],
    ["a subscribe with a nested channel", `{"type":"subscribe","channel":${nested(10_000, "topic:a")}}`, undefined],
    ["a frame with a prototype-polluting key", '{"type":"ping","__proto__":{"polluted":true}}', undefined],
  ])("%s is answered bad_request and the connection stays", async (_name, frame, message) => {
    const { t, bystander } = await withBystander();
    const ws = await WsTestClient.open(t.url, await t.token({ sub: "mallory", tenant: "acme" }));
    ws.send(frame);
    const answer = await ws.next((f) => f.type === "error" || f.type === "response" || f.type === "pong");
    if (answer.type === "pong") {
      expect(({} as any).polluted).toBeUndefined();
    } else {
      expect(answer.type === "response" ? answer.error.code : answer.code).toBe("bad_request");
      if (message) expect(answer.message).toBe(message);
    }
    ws.send({ type: "ping", id: "after" });
    expect((await ws.next((f) => f.type === "pong")).id).toBe("after");
    await assertHealthy(t, bystander);
  });

  it("a binary frame is bad_request and a frame over MAX_PAYLOAD_BYTES closes with 1009", async () => {
    const { t, bystander } = await withBystander({ MAX_PAYLOAD_BYTES: "2048" });
    const ws = await WsTestClient.open(t.url, await t.token({ sub: "mallory", tenant: "acme" }));
    ws.socket.send(Buffer.from([0, 159, 146, 150]), { binary: true });
    expect(await ws.next((f) => f.type === "error")).toMatchObject({ code: "bad_request", message: "binary frames are not supported" });
    const closed = wsClosed(ws.socket);
    ws.send({ type: "ping", pad: "x".repeat(4000) });
    expect(await closed).toBe(1009);
    await assertHealthy(t, bystander);
  });

  it("a text frame of invalid UTF-8 closes with 1007", async () => {
    const { t, bystander } = await withBystander();
    const ws = await WsTestClient.open(t.url, await t.token({ sub: "mallory", tenant: "acme" }));
    const closed = wsClosed(ws.socket);
    ws.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
    await assertHealthy(t, bystander);
  });
});

describe("hostile Pusher frames", () => {
  const PUSHER = { PUSHER_APPS: "1:key1:secret123:acme" };

  async function pusher(t: TestServer, path = "/app/key1?protocol=7") {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}${path}`);
    onCleanup(async () => ws.terminate());
    const frames: any[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    ws.on("error", () => {});
    const next = async (match: (f: any) => boolean, ms = 3000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const i = frames.findIndex(match);
        if (i >= 0) return frames.splice(i, 1)[0];
        await sleep(10);
      }
      throw new Error(`no matching Pusher frame within ${ms} ms`);
    };
    return { ws, frames, next };
  }

  it.each([
    ["not JSON", "{{{"],
    ["a JSON array", "[1,2,3]"],
    ["an event that is not a string", '{"event":42}'],
    ["a subscribe without a channel", '{"event":"pusher:subscribe","data":{}}'],
    ["data that is a JSON string of garbage", '{"event":"pusher:subscribe","data":"{nope"}'],
    ["a client event on an unsubscribed channel", '{"event":"client-x","channel":"private-a","data":{}}'],
  ])("%s gets pusher:error and the connection stays", async (_name, frame) => {
    const { t, bystander } = await withBystander(PUSHER);
    const p = await pusher(t);
    await p.next((f) => f.event === "pusher:connection_established");
    p.ws.send(frame);
    const error = (await p.next((f) => f.event === "pusher:error")).data;
    expect(typeof error === "string" ? JSON.parse(error) : error).toHaveProperty("message");
    p.ws.send('{"event":"pusher:ping","data":{}}');
    await p.next((f) => f.event === "pusher:pong");
    await assertHealthy(t, bystander);
  });

  it("a binary frame gets pusher:error; invalid and unauthorized subscriptions get subscription_error", async () => {
    const { t, bystander } = await withBystander(PUSHER);
    const p = await pusher(t);
    await p.next((f) => f.event === "pusher:connection_established");
    p.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await p.next((f) => f.event === "pusher:error");
    p.ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "bad name!" } }));
    expect(JSON.parse((await p.next((f) => f.event === "pusher:subscription_error")).data)).toMatchObject({ type: "InvalidChannel", status: 400 });
    p.ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "private-patient.42", auth: "key1:deadbeef" } }));
    expect(JSON.parse((await p.next((f) => f.event === "pusher:subscription_error")).data)).toMatchObject({ type: "AuthError", status: 401 });
    p.ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "a.b" } }));
    expect(JSON.parse((await p.next((f) => f.event === "pusher:subscription_error")).data)).toMatchObject({ status: 400 });
    await assertHealthy(t, bystander);
  });

  it("an unknown app key closes with 4001, a missing protocol with 4008", async () => {
    const { t, bystander } = await withBystander(PUSHER);
    const unknown = await pusher(t, "/app/nope?protocol=7");
    expect(await wsClosed(unknown.ws)).toBe(4001);
    const noProtocol = await pusher(t, "/app/key1");
    expect(await wsClosed(noProtocol.ws)).toBe(4008);
    await assertHealthy(t, bystander);
  });
});

describe("hostile HTTP", () => {
  const env = { API_KEYS: `acme:${API_KEY}` };

  async function userAuth(t: TestServer) {
    return { authorization: `Bearer ${await t.token({ sub: "alice", tenant: "acme" })}` };
  }

  it("malformed JSON is 400 bad_request", async () => {
    const { t, bystander } = await withBystander(env);
    const res = await fetch(`${t.url}/v1/conversations`, { method: "POST", headers: { ...(await userAuth(t)), "content-type": "application/json" }, body: '{"type":"group",' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("a body of the wrong content type is 400 bad_request (the code's own status), never a 500", async () => {
    const { t, bystander } = await withBystander(env);
    const res = await fetch(`${t.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/x-evil" }, body: "channel=topic:a" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("a body over MAX_PAYLOAD_BYTES is 413 payload_too_large", async () => {
    const { t, bystander } = await withBystander({ ...env, MAX_PAYLOAD_BYTES: "4096" });
    const res = await fetch(`${t.url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "topic:a", event: "big", data: "x".repeat(10_000) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("payload_too_large");
    await assertHealthy(t, bystander);
  });

  // A hostile id is a string that names no conversation: 404, and nothing reaches the database as an id.
  it.each([
    ["/v1/conversations/..%2F..%2Fetc%2Fpasswd", 404, "not_found"],
    ["/v1/conversations/%00", 404, "not_found"],
    ["/v1/conversations/' OR 1=1 --", 404, "not_found"],
    ["/v1/conversations/%E0%A4%A", 400, "bad_request"],
    ["/v1/conversations/00000000-0000-4000-8000-000000000000%00", 404, "not_found"],
    ["/v1/conversations/%F0%9F%98%80", 404, "not_found"],
  ])("path %s answers %i with an error body", async (path, status, code) => {
    const { t, bystander } = await withBystander(env);
    const res = await fetch(`${t.url}${path.replace(/ /g, "%20")}`, { headers: await userAuth(t) });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.code).toBe(code);
    await assertHealthy(t, bystander);
  });

  it("unicode oddities in presence ids are 400 bad_request", async () => {
    const { t, bystander } = await withBystander(env);
    const auth = { authorization: `Bearer ${API_KEY}` };
    for (const id of ["%E2%80%AEalice", "al%C2%ADice", "%EF%BC%A1lice", "a%0D%0Ab"]) {
      const res = await fetch(`${t.url}/v1/users/${id}/online`, { headers: auth });
      expect(res.status, id).toBe(400);
    }
    const res = await fetch(`${t.url}/v1/presence?userIds=${"%F0%9F%92%A9,".repeat(10)}`, { headers: auth });
    expect(res.status).toBe(400);
    await assertHealthy(t, bystander);
  });

  it("event data nested 5,000 deep is 400 bad_request (not a 500); 60 levels are delivered", async () => {
    const { t, bystander } = await withBystander(env);
    const sub = await t.connect({ sub: "listener", tenant: "acme" });
    await ok(sub.socket, "room:join", { room: "topic:deep" });
    const post = (data: string) =>
      fetch(`${t.url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: `{"channel":"topic:deep","event":"deep.event","data":${data}}`,
      });
    const deep = await post(nested(5_000));
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as any).error).toMatchObject({ code: "bad_request", details: [{ path: "data" }] });
    const got = nextEvent<any>(sub.socket, "deep.event", 5000);
    expect((await post(nested(60))).status).toBe(202);
    expect(JSON.stringify(await got)).toBe(nested(60));
    await assertHealthy(t, bystander);
  });

  it("notification data nested 5,000 deep is refused with a 4xx, never a 500", async () => {
    const { t, bystander } = await withBystander(env);
    const res = await fetch(`${t.url}/v1/notifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: `{"userIds":["alice"],"type":"visit","title":"x","data":{"a":${nested(5_000)}}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("bad_request");
    await assertHealthy(t, bystander);
  });

  it("a request with thousands of headers is refused with 431 (or the socket is closed) and the server stays up", async () => {
    const { t, bystander } = await withBystander();
    const port = Number(new URL(t.url).port);
    const headers = Array.from({ length: 5000 }, (_, i) => `x-h${i}: ${"v".repeat(20)}`).join("\r\n");
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = tcpConnect(port, "127.0.0.1");
      let data = "";
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error("no answer within 5 s"));
      }, 5000);
      sock.on("data", (d) => (data += d.toString()));
      sock.on("error", () => {});
      sock.on("close", () => {
        clearTimeout(timer);
        resolve(data);
      });
      sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n${headers}\r\n\r\n`);
    });
    expect(answer === "" || answer.startsWith("HTTP/1.1 431")).toBe(true);
    await assertHealthy(t, bystander);
  });
});

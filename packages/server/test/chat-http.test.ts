import { describe, expect, it } from "vitest";
import { nextEvent, startServer } from "./support/server-harness.js";

async function api(url: string, token: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("chat REST routes", () => {
  it("create, send, list, history and read over HTTP share the Socket.IO behaviour and reach live clients", async () => {
    const { url, token, connect } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    const bobLive = await connect({ sub: "bob", tenant: "acme" });
    const aliceLive = await connect({ sub: "alice", tenant: "acme" });

    const created = await api(url, alice, "POST", "/v1/conversations", { type: "direct", participantIds: ["bob"] });
    expect(created.status).toBe(201);
    const id = created.body.conversation.id;
    expect((await api(url, alice, "POST", "/v1/conversations", { type: "direct", participantIds: ["bob"] })).body.conversation.id).toBe(id);

    const atBob = nextEvent<any>(bobLive.socket, "message:new");
    const atAlice = nextEvent<any>(aliceLive.socket, "message:new");
    const sent = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "from REST", clientMessageId: "r-1" });
    expect(sent.status).toBe(201);
    expect(sent.body.message).toMatchObject({ seq: 1, body: "from REST", senderId: "alice" });
    expect((await atBob).message).toEqual(sent.body.message);
    expect((await atAlice).message.id).toBe(sent.body.message.id);
    const replay = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "from REST", clientMessageId: "r-1" });
    expect(replay.body.message.id).toBe(sent.body.message.id);

    const bob = await token({ sub: "bob", tenant: "acme" });
    const list = await api(url, bob, "GET", "/v1/conversations?limit=10");
    expect(list.body.conversations).toHaveLength(1);
    expect(list.body.conversations[0]).toMatchObject({ id, unreadCount: 1, lastMessage: { body: "from REST" } });
    expect((await api(url, bob, "GET", `/v1/conversations/${id}`)).body.conversation.id).toBe(id);
    const history = await api(url, bob, "GET", `/v1/conversations/${id}/messages?afterSeq=0&limit=50`);
    expect(history.body).toEqual({ messages: [sent.body.message], hasMore: false });
    expect((await api(url, bob, "POST", `/v1/conversations/${id}/read`, { upToSeq: 1 })).body).toEqual({ unreadCount: 0 });
    expect((await api(url, bob, "DELETE", `/v1/conversations/${id}`)).body).toEqual({ conversationId: id });
    expect((await api(url, bob, "GET", `/v1/conversations/${id}/messages`)).status).toBe(403);
  });

  it("requests without a valid user token are 401 with the token reason", async () => {
    const { url, token } = await startServer();
    const missing = await api(url, undefined, "GET", "/v1/conversations");
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: "unauthorized", details: { reason: "token_missing" } });
    const expired = await token({ sub: "alice" }, Math.floor(Date.now() / 1000) - 10);
    expect((await api(url, expired, "GET", "/v1/conversations")).body.error.details.reason).toBe("token_expired");
    expect((await api(url, "garbage", "GET", "/v1/conversations")).body.error.details.reason).toBe("token_invalid");
  });

  it("bad input is 400 bad_request with field details; unknown ids are 404; nothing is stored", async () => {
    const { url, token } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    const id = (await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["bob"], title: "t" })).body.conversation.id;
    const bad = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "   " });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");
    expect(bad.body.error.details[0].path).toBe("body");
    expect((await api(url, alice, "GET", `/v1/conversations/${id}/messages?limit=abc`)).status).toBe(400);
    // PROTOCOL.md gives ids no format: one the server never made names nothing (404), like an unknown UUID.
    expect((await api(url, alice, "GET", `/v1/conversations/not-a-uuid`)).status).toBe(404);
    expect((await api(url, alice, "GET", `/v1/conversations/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await api(url, alice, "POST", "/v1/conversations", { type: "direct" })).status).toBe(400);
    expect((await api(url, alice, "GET", `/v1/conversations/${id}/messages`)).body.messages).toEqual([]);
  });

  it("REST requests spend the user's rate limit of their socket request: over it, 429 rate_limited, and the socket shares the budget", async () => {
    const { url, token, connect } = await startServer({ env: { RATE_LIMITS: "message=3/10,conversation=2/10" } });
    const alice = await token({ sub: "alice", tenant: "acme" });
    const id = (await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["bob"], title: "t" })).body.conversation.id;
    for (let i = 0; i < 3; i++) expect((await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: `m${i}` })).status).toBe(201);
    const over = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "one too many" });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: "rate_limited", details: { retryAfterMs: expect.any(Number) } });
    const live = await connect({ sub: "alice", tenant: "acme" });
    expect(await new Promise((resolve) => live.socket.emit("message:send", { conversationId: id, body: "via socket" }, resolve))).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect((await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["carl"], title: "second" })).status).toBe(201);
    expect((await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["dan"], title: "third" })).status).toBe(429);
    // Refused sends stored nothing; another user's budget is their own.
    const bob = await token({ sub: "bob", tenant: "acme" });
    const history = await api(url, bob, "GET", `/v1/conversations/${id}/messages`);
    expect(history.body.messages.map((m: any) => m.body)).toEqual(["m0", "m1", "m2"]);
    expect((await api(url, bob, "POST", `/v1/conversations/${id}/messages`, { body: "bob's own" })).status).toBe(201);
  });

  it("seq values past what the store holds read as the end: a read is clamped, history bounds past it are the end, never a 500", async () => {
    const { url, token } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    const bob = await token({ sub: "bob", tenant: "acme" });
    const id = (await api(url, alice, "POST", "/v1/conversations", { type: "direct", participantIds: ["bob"] })).body.conversation.id;
    await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "one" });
    await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: "two" });
    for (const big of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect((await api(url, bob, "GET", `/v1/conversations/${id}/messages?afterSeq=${big}`)).body).toEqual({ messages: [], hasMore: false });
      expect((await api(url, bob, "GET", `/v1/conversations/${id}/messages?beforeSeq=${big}`)).body.messages.map((m: any) => m.seq)).toEqual([1, 2]);
    }
    expect(await api(url, bob, "POST", `/v1/conversations/${id}/read`, { upToSeq: 2 ** 31 })).toEqual({ status: 200, body: { unreadCount: 0 } });
    expect((await api(url, bob, "GET", `/v1/conversations/${id}`)).body.conversation).toMatchObject({ unreadCount: 0 });
    expect((await api(url, bob, "POST", `/v1/conversations/${id}/read`, { upToSeq: 2 ** 53 })).status).toBe(400);
  });

  it("text the store cannot hold as sent (U+0000, an unpaired surrogate) is 400 bad_request and stores nothing; characters are counted as code points", async () => {
    const { url, token } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    const id = (await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["bob"], title: "t" })).body.conversation.id;
    for (const payload of [{ body: "a\u0000b" }, { body: "a\ud800b" }, { body: "ok", clientMessageId: "k\u0000" }]) {
      const refused = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, payload);
      expect(refused.status, JSON.stringify(payload)).toBe(400);
      expect(refused.body.error.code).toBe("bad_request");
    }
    expect((await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["bob"], title: "x\u0000" })).status).toBe(400);
    const emoji = "\u{1F600}";
    const long = await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: emoji.repeat(8000) });
    expect(long.status).toBe(201);
    expect(long.body.message.body).toBe(emoji.repeat(8000));
    expect((await api(url, alice, "POST", `/v1/conversations/${id}/messages`, { body: emoji.repeat(8001) })).status).toBe(400);
    const history = await api(url, alice, "GET", `/v1/conversations/${id}/messages`);
    expect(history.body.messages.map((m: any) => m.seq)).toEqual([1]);
  });

  it("a reused clientMessageId sent to a conversation the caller is not in is refused as that conversation is, not as a conflict", async () => {
    const { url, token } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    const carl = await token({ sub: "carl", tenant: "acme" });
    const mine = (await api(url, alice, "POST", "/v1/conversations", { type: "direct", participantIds: ["bob"] })).body.conversation.id;
    const other = (await api(url, alice, "POST", "/v1/conversations", { type: "group", participantIds: ["bob"], title: "t" })).body.conversation.id;
    const carls = (await api(url, carl, "POST", "/v1/conversations", { type: "direct", participantIds: ["dan"] })).body.conversation.id;
    await api(url, alice, "POST", `/v1/conversations/${mine}/messages`, { body: "hi", clientMessageId: "k-1" });
    expect((await api(url, alice, "POST", `/v1/conversations/${carls}/messages`, { body: "hi", clientMessageId: "k-1" })).status).toBe(403);
    expect((await api(url, alice, "POST", `/v1/conversations/00000000-0000-4000-8000-000000000000/messages`, { body: "hi", clientMessageId: "k-1" })).status).toBe(404);
    expect((await api(url, alice, "POST", `/v1/conversations/${other}/messages`, { body: "hi", clientMessageId: "k-1" })).status).toBe(409);
  });

  it("a list cursor's beforeId that is not an id is 400 bad_request; an id of nothing is a bound like any other; an over-long path id is 400", async () => {
    const { url, token } = await startServer();
    const alice = await token({ sub: "alice", tenant: "acme" });
    await api(url, alice, "POST", "/v1/conversations", { type: "direct", participantIds: ["bob"] });
    const before = "2100-01-01T00:00:00.000Z";
    const malformed = await api(url, alice, "GET", `/v1/conversations?before=${before}&beforeId=not-a-uuid`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("bad_request");
    expect((await api(url, alice, "GET", `/v1/notifications?before=${before}&beforeId=not-a-uuid`)).status).toBe(400);
    expect((await api(url, alice, "GET", `/v1/calls?before=${before}&beforeId=not-a-uuid`)).status).toBe(400);
    const unknown = await api(url, alice, "GET", `/v1/conversations?before=${before}&beforeId=00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(200);
    expect(unknown.body.conversations).toHaveLength(1);
    const long = await api(url, alice, "GET", `/v1/conversations/${"x".repeat(600)}`);
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe("bad_request");
  });
});

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
});

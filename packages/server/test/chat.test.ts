import { describe, expect, it } from "vitest";
import { collect, nextEvent, sleep, startServer } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

describe("conversations", () => {
  it("creating a direct conversation twice returns the same one, from either side", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const announced = nextEvent<any>(bob.socket, "conversation:new");
    const first = await ok(alice.socket, "conversation:create", { type: "direct", participantIds: ["bob"] });
    expect((await announced).conversation.id).toBe(first.conversation.id);
    const again = await ok(alice.socket, "conversation:create", { type: "direct", participantIds: ["bob", "alice"] });
    const fromBob = await ok(bob.socket, "conversation:create", { type: "direct", participantIds: ["alice"] });
    expect(again.conversation.id).toBe(first.conversation.id);
    expect(fromBob.conversation.id).toBe(first.conversation.id);
    expect(first.conversation).toMatchObject({ type: "direct", createdBy: "alice", lastSeq: 0 });
    expect(first.conversation.participants.map((p: any) => p.userId).sort()).toEqual(["alice", "bob"]);
  });

  it("a direct conversation needs exactly one other user; a group at least one", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    expect(await fails(socket, "conversation:create", { type: "direct", participantIds: ["bob", "carol"] })).toBe("bad_request");
    expect(await fails(socket, "conversation:create", { type: "direct", participantIds: ["alice"] })).toBe("bad_request");
    expect(await fails(socket, "conversation:create", { type: "group", participantIds: ["alice"] })).toBe("bad_request");
    expect(await fails(socket, "conversation:create", { type: "channel", participantIds: ["bob"] })).toBe("bad_request");
    expect((await ok(socket, "conversation:list", {})).conversations).toEqual([]);
  });

  it("conversation:list gives lastMessage and unreadCount, newest activity first, paginated by before", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await createGroup(alice.socket, ["bob"], `g${i}`));
    await ok(alice.socket, "message:send", { conversationId: ids[0], body: "first" });
    await ok(alice.socket, "message:send", { conversationId: ids[0], body: "second" });
    const list = (await ok(bob.socket, "conversation:list", {})).conversations;
    expect(list.map((c: any) => c.id)).toEqual([ids[0], ids[2], ids[1]]);
    expect(list[0]).toMatchObject({ unreadCount: 2, lastSeq: 2, lastMessage: { body: "second", seq: 2, senderId: "alice" } });
    expect(list[1]).toMatchObject({ unreadCount: 0, lastMessage: null });
    // The sender has read what they sent.
    expect((await ok(alice.socket, "conversation:list", {})).conversations[0].unreadCount).toBe(0);

    const page1 = (await ok(bob.socket, "conversation:list", { limit: 2 })).conversations;
    const page2 = (await ok(bob.socket, "conversation:list", { limit: 2, before: page1[1].lastActivityAt })).conversations;
    expect([...page1, ...page2].map((c: any) => c.id)).toEqual(list.map((c: any) => c.id));
  });

  it("a group admin adds and removes participants; a removed participant stops receiving", async () => {
    const { connect } = await startServer();
    const admin = await connect({ sub: "admin", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const id = await createGroup(admin.socket, ["bob"]);
    expect(await fails(bob.socket, "conversation:addParticipants", { conversationId: id, userIds: ["carol"] })).toBe("forbidden");

    const carolNew = nextEvent<any>(carol.socket, "conversation:new");
    const bobUpdated = nextEvent<any>(bob.socket, "conversation:updated");
    await ok(admin.socket, "conversation:addParticipants", { conversationId: id, userIds: ["carol"] });
    expect((await carolNew).conversation.id).toBe(id);
    expect((await bobUpdated).conversation.participants).toHaveLength(3);

    const removed = nextEvent<any>(bob.socket, "conversation:removed");
    await ok(admin.socket, "conversation:removeParticipants", { conversationId: id, userIds: ["bob"] });
    expect(await removed).toEqual({ conversationId: id });
    const bobMessages = collect(bob.socket, "message:new");
    const carolGot = nextEvent(carol.socket, "message:new");
    await ok(admin.socket, "message:send", { conversationId: id, body: "bob is gone" });
    await carolGot;
    await sleep(100);
    expect(bobMessages).toEqual([]);
    expect(await fails(bob.socket, "message:send", { conversationId: id, body: "let me in" })).toBe("forbidden");
    expect(await fails(bob.socket, "message:history", { conversationId: id })).toBe("forbidden");
  });

  it("a participant leaves; re-creating the direct conversation brings them back with the history", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const { conversation } = await ok(alice.socket, "conversation:create", { type: "direct", participantIds: ["bob"] });
    await ok(alice.socket, "message:send", { conversationId: conversation.id, body: "hi" });
    await ok(bob.socket, "conversation:leave", { conversationId: conversation.id });
    expect((await ok(bob.socket, "conversation:list", {})).conversations).toEqual([]);
    const back = await ok(bob.socket, "conversation:create", { type: "direct", participantIds: ["alice"] });
    expect(back.conversation.id).toBe(conversation.id);
    expect((await ok(bob.socket, "message:history", { conversationId: conversation.id })).messages.map((m: any) => m.body)).toEqual(["hi"]);
  });
});

describe("messages", () => {
  it("a message reaches the other participant and the sender's second device exactly once, in seq order", async () => {
    const { connect } = await startServer();
    const alice1 = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    const alice2 = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice1.socket, ["bob"]);
    await ok(bob.socket, "room:join", { room: `conversation:${id}` }); // joined or not, one copy each
    const atBob = collect<any>(bob.socket, "message:new");
    const atAlice2 = collect<any>(alice2.socket, "message:new");
    const atAlice1 = collect<any>(alice1.socket, "message:new");
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push((await ok(alice1.socket, "message:send", { conversationId: id, body: `m${i}` })).message);
    await sleep(200);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(sent[0]).toMatchObject({ conversationId: id, senderId: "alice", senderName: "Alice", body: "m1" });
    expect(atBob.map((e) => e.message)).toEqual(sent);
    expect(atAlice2.map((e) => e.message)).toEqual(sent);
    expect(atAlice1).toEqual([]);
  });

  it("bodies are stored exactly as sent; empty, whitespace-only and over-long bodies are refused and nothing is stored", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(socket, ["bob"]);
    const html = "  <b>bold</b> & <script>alert(1)</script>  ";
    expect((await ok(socket, "message:send", { conversationId: id, body: html })).message.body).toBe(html);
    for (const body of ["", "   \n ", " \u200b \n\ufeff", "x".repeat(8001), 42]) {
      expect(await fails(socket, "message:send", { conversationId: id, body })).toBe("bad_request");
    }
    expect((await ok(socket, "message:send", { conversationId: id, body: "y".repeat(8000) })).message.seq).toBe(2);
  });

  it("conversation:list pages with before and beforeId lose none of several conversations active in the same millisecond", async () => {
    const { connect, server } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createGroup(socket, [`p${i}`], `g${i}`));
    await server.database.query("update conversations set last_activity_at = '2026-12-06T10:00:00.123Z'");
    const seen: string[] = [];
    let cursor: { before?: string; beforeId?: string } = {};
    for (let page = 0; page < 5; page++) {
      const { conversations } = await ok(socket, "conversation:list", { limit: 2, ...cursor });
      seen.push(...conversations.map((c: any) => c.id));
      if (conversations.length < 2) break;
      const last = conversations.at(-1);
      cursor = { before: last.lastActivityAt, beforeId: last.id };
    }
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("history pages concatenate to the full gapless list in both directions", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(socket, ["bob"]);
    for (let i = 1; i <= 23; i++) await ok(socket, "message:send", { conversationId: id, body: `m${i}` });

    const backward: number[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await ok(socket, "message:history", { conversationId: id, limit: 5, ...(beforeSeq && { beforeSeq }) });
      backward.unshift(...page.messages.map((m: any) => m.seq));
      if (!page.hasMore) break;
      beforeSeq = page.messages[0].seq;
    }
    expect(backward).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));

    const forward: number[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await ok(socket, "message:history", { conversationId: id, limit: 7, afterSeq });
      forward.push(...page.messages.map((m: any) => m.seq));
      if (!page.hasMore) break;
      afterSeq = page.messages.at(-1).seq;
    }
    expect(forward).toEqual(backward);
    expect(await fails(socket, "message:history", { conversationId: id, limit: 201 })).toBe("bad_request");
  });

  it("a client that disconnects and misses 50 messages gets exactly those 50 with afterSeq", async () => {
    const { connect } = await startServer({ env: { RATE_LIMITS: "message=100/10" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const seen = nextEvent(bob.socket, "message:new");
    await ok(alice.socket, "message:send", { conversationId: id, body: "before" });
    await seen;
    bob.socket.disconnect();
    for (let i = 1; i <= 50; i++) await ok(alice.socket, "message:send", { conversationId: id, body: `missed ${i}` });
    const back = await connect({ sub: "bob", tenant: "acme" });
    const page = await ok(back.socket, "message:history", { conversationId: id, afterSeq: 1, limit: 200 });
    expect(page.hasMore).toBe(false);
    expect(page.messages.map((m: any) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(page.messages[0].body).toBe("missed 1");
  });

  it("a second message:send with the same clientMessageId returns the first message, stores one row and broadcasts nothing", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const atBob = collect(bob.socket, "message:new");
    const first = await ok(alice.socket, "message:send", { conversationId: id, body: "once", clientMessageId: "c-1" });
    const retry = await ok(alice.socket, "message:send", { conversationId: id, body: "once", clientMessageId: "c-1" });
    const concurrent = await Promise.all([1, 2, 3].map(() => ok(alice.socket, "message:send", { conversationId: id, body: "twice", clientMessageId: "c-2" })));
    await sleep(150);
    expect(retry.message).toEqual(first.message);
    expect(new Set(concurrent.map((r) => r.message.id)).size).toBe(1);
    expect(atBob).toHaveLength(2);
    const { rows } = await server.database.query<{ n: number }>("select count(*)::int as n from messages where conversation_id = $1", [id]);
    expect(rows[0]!.n).toBe(2);
    expect((await ok(alice.socket, "message:history", { conversationId: id })).messages.map((m: any) => m.seq)).toEqual([1, 2]);
    // Same id, different body: the original message (PROTOCOL.md section 4), and still nothing new.
    expect((await ok(alice.socket, "message:send", { conversationId: id, body: "changed", clientMessageId: "c-1" })).message).toEqual(first.message);
    // The same id in another conversation names no message there.
    const other = await createGroup(alice.socket, ["bob"]);
    expect(await fails(alice.socket, "message:send", { conversationId: other, body: "once", clientMessageId: "c-1" })).toBe("conflict");
    await sleep(100);
    expect(atBob).toHaveLength(2);
    // Another sender may use the same clientMessageId.
    expect((await ok(bob.socket, "message:send", { conversationId: id, body: "mine", clientMessageId: "c-1" })).message.seq).toBe(3);
  });

  it("replyTo must name a message of the same conversation", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const a = await createGroup(socket, ["bob"]);
    const b = await createGroup(socket, ["bob"]);
    const inA = (await ok(socket, "message:send", { conversationId: a, body: "question" })).message;
    const reply = await ok(socket, "message:send", { conversationId: a, body: "answer", replyTo: inA.id });
    expect(reply.message).toMatchObject({ replyTo: inA.id, seq: 2 });
    expect(await fails(socket, "message:send", { conversationId: b, body: "wrong place", replyTo: inA.id })).toBe("bad_request");
    // A reply to nothing is the same bad payload however the id is spelled.
    expect(await fails(socket, "message:send", { conversationId: b, body: "to nothing", replyTo: "00000000-0000-4000-8000-000000000000" })).toBe("bad_request");
    expect(await fails(socket, "message:send", { conversationId: b, body: "to nothing", replyTo: "nope" })).toBe("bad_request");
    expect((await ok(socket, "message:send", { conversationId: b, body: "next" })).message.seq).toBe(1);
  });

  it("only the sender edits or deletes; a deleted message keeps its seq with its content erased from storage", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const msg = (await ok(alice.socket, "message:send", { conversationId: id, body: "typo" })).message;
    expect(await fails(bob.socket, "message:edit", { messageId: msg.id, body: "hacked" })).toBe("forbidden");
    expect(await fails(bob.socket, "message:delete", { messageId: msg.id })).toBe("forbidden");

    const updated = nextEvent<any>(bob.socket, "message:updated");
    const edited = (await ok(alice.socket, "message:edit", { messageId: msg.id, body: "fixed" })).message;
    expect(edited).toMatchObject({ id: msg.id, seq: 1, body: "fixed" });
    expect(edited.editedAt).toBeDefined();
    expect((await updated).message).toEqual(edited);

    const deleted = nextEvent<any>(bob.socket, "message:deleted");
    expect(await ok(alice.socket, "message:delete", { messageId: msg.id })).toEqual({ conversationId: id, messageId: msg.id, seq: 1 });
    expect(await deleted).toEqual({ conversationId: id, messageId: msg.id, seq: 1 });
    const [row] = (await server.database.query<{ body: string }>("select body from messages where id = $1", [msg.id])).rows;
    expect(row!.body).toBe("");
    const history = (await ok(bob.socket, "message:history", { conversationId: id })).messages;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ seq: 1, body: "" });
    expect(history[0].deletedAt).toBeDefined();
    expect(await fails(alice.socket, "message:edit", { messageId: msg.id, body: "resurrect" })).toBe("conflict");
    expect(await fails(alice.socket, "message:edit", { messageId: "00000000-0000-4000-8000-000000000000", body: "x" })).toBe("not_found");
  });
});

describe("membership and tenants", () => {
  it("a non-member is refused for send, history, receipts and typing, and nothing is stored", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const mallory = await connect({ sub: "mallory", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "private" });
    const atBob = collect(bob.socket, "typing:start");
    const cases: [string, unknown][] = [
      ["message:send", { conversationId: id, body: "intrude" }],
      ["message:history", { conversationId: id }],
      ["message:delivered", { conversationId: id, upToSeq: 1 }],
      ["message:read", { conversationId: id, upToSeq: 1 }],
      ["typing:start", { conversationId: id }],
      ["typing:stop", { conversationId: id }],
      ["conversation:get", { conversationId: id }],
      ["room:join", { room: `conversation:${id}` }],
    ];
    for (const [event, payload] of cases) expect(await fails(mallory.socket, event, payload), event).toBe("forbidden");
    await sleep(100);
    expect(atBob).toEqual([]);
    const { rows } = await server.database.query<{ n: number }>("select count(*)::int as n from messages");
    expect(rows[0]!.n).toBe(1);
    expect((await ok(alice.socket, "conversation:get", { conversationId: id })).conversation.lastSeq).toBe(1);
  });

  it("another tenant's conversation does not exist for the caller", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const twin = await connect({ sub: "alice", tenant: "globex" });
    const id = await createGroup(alice.socket, ["bob"]);
    expect(await fails(twin.socket, "message:send", { conversationId: id, body: "hi" })).toBe("not_found");
    expect(await fails(twin.socket, "message:history", { conversationId: id })).toBe("not_found");
    expect((await ok(twin.socket, "conversation:list", {})).conversations).toEqual([]);
  });

  it("an id the server never made names nothing: not_found, like an unknown UUID; a non-string id is bad_request", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const { message } = await ok(alice.socket, "message:send", { conversationId: id, body: "hi" });
    const unknown: [string, Record<string, unknown>][] = [
      ["message:send", { conversationId: "does-not-exist", body: "x" }],
      ["message:history", { conversationId: "does-not-exist" }],
      ["conversation:get", { conversationId: "nope" }],
      ["message:edit", { messageId: "nope", body: "x" }],
      ["message:delete", { messageId: "nope" }],
      ["message:read", { conversationId: "nope", upToSeq: 1 }],
      ["call:accept", { callId: "nope" }],
      ["call:end", { callId: "nope" }],
      ["notification:read", { id: "nope" }],
    ];
    for (const [event, payload] of unknown) expect(await fails(alice.socket, event, payload), event).toBe("not_found");
    // Wrong types and an unknown id together: the payload is invalid.
    expect(await fails(alice.socket, "message:send", { conversationId: 42, body: "x" })).toBe("bad_request");
    expect(await fails(alice.socket, "message:send", { conversationId: "", body: "x" })).toBe("bad_request");
    expect(await fails(alice.socket, "message:send", { conversationId: "nope", body: "" })).toBe("bad_request");
    // Nothing was stored or changed.
    expect((await ok(alice.socket, "message:history", { conversationId: id })).messages).toEqual([message]);
  });
});

describe("receipts and typing", () => {
  it("delivered and read receipts are broadcast, derive unread counts, and never move backwards", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    for (let i = 1; i <= 5; i++) await ok(alice.socket, "message:send", { conversationId: id, body: `m${i}` });

    const delivered = nextEvent<any>(alice.socket, "message:delivered");
    expect(await ok(bob.socket, "message:delivered", { conversationId: id, upToSeq: 5 })).toEqual({});
    expect(await delivered).toMatchObject({ conversationId: id, userId: "bob", upToSeq: 5 });

    const read = nextEvent<any>(alice.socket, "message:read");
    expect(await ok(bob.socket, "message:read", { conversationId: id, upToSeq: 3 })).toEqual({ unreadCount: 2 });
    const readEvent = await read;
    expect(readEvent).toMatchObject({ conversationId: id, userId: "bob", upToSeq: 3 });
    expect(Date.parse(readEvent.at)).toBeGreaterThan(0);

    const later = collect(alice.socket, "message:read");
    expect(await ok(bob.socket, "message:read", { conversationId: id, upToSeq: 1 })).toEqual({ unreadCount: 2 });
    // Past the end is clamped to the last message.
    expect(await ok(bob.socket, "message:read", { conversationId: id, upToSeq: 999 })).toEqual({ unreadCount: 0 });
    await sleep(100);
    expect(later.map((e: any) => e.upToSeq)).toEqual([5]);
    expect((await ok(bob.socket, "conversation:get", { conversationId: id })).conversation.unreadCount).toBe(0);
  });

  it("typing:start is announced once, stops by itself after the timeout, and stops when the typist disconnects", async () => {
    const { connect } = await startServer({ env: { TYPING_TIMEOUT_MS: "300" } });
    const alice = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const starts = collect<any>(bob.socket, "typing:start");
    const stops = collect<any>(bob.socket, "typing:stop");
    await ok(alice.socket, "typing:start", { conversationId: id });
    await ok(alice.socket, "typing:start", { conversationId: id });
    await ok(alice.socket, "typing:start", { conversationId: id });
    await sleep(150);
    expect(starts).toEqual([{ conversationId: id, userId: "alice", name: "Alice" }]);
    expect(stops).toEqual([]);
    await sleep(400);
    expect(stops).toEqual([{ conversationId: id, userId: "alice", name: "Alice" }]);

    await ok(alice.socket, "typing:start", { conversationId: id });
    const stopped = nextEvent(bob.socket, "typing:stop");
    alice.socket.disconnect();
    await stopped;
    expect(starts).toHaveLength(2);
  });

  it("typing:stop ends the indicator at once", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "typing:start", { conversationId: id });
    const stopped = nextEvent<any>(bob.socket, "typing:stop");
    await ok(alice.socket, "typing:stop", { conversationId: id });
    expect((await stopped).userId).toBe("alice");
  });
});

import { describe, expect, it } from "vitest";
import { collect, nextEvent, sleep, startServer } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

// PROTOCOL.md section 3: `conversation:{id}` is joined "on message:* use", `call:{id}` "on call events".
describe("channels joined by use", () => {
  it("a message:* request joins its connection to conversation:{id}, so what the backend publishes there reaches it; others stay out", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const channel = `conversation:${id}`;
    // Before any use, nobody is in it.
    expect((await ok(alice.socket, "room:participants", { room: channel })).participants).toEqual([]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "hi" });
    await ok(bob.socket, "message:history", { conversationId: id });
    const names = (await ok(alice.socket, "room:participants", { room: channel })).participants.map((p: { userId: string }) => p.userId);
    expect(names.sort()).toEqual(["alice", "bob"]);
    const atAlice = nextEvent(alice.socket, "visit:updated");
    const atBob = nextEvent(bob.socket, "visit:updated");
    const atCarol = collect(carol.socket, "visit:updated");
    await server.publish("acme", { channel, event: "visit:updated", data: { n: 1 } });
    expect(await atAlice).toEqual({ n: 1 });
    expect(await atBob).toEqual({ n: 1 });
    // A non-participant's requests fail and join nothing; a join by hand is refused.
    expect(await fails(carol.socket, "message:history", { conversationId: id })).toBe("forbidden");
    expect(await fails(carol.socket, "room:join", { room: channel })).toBe("forbidden");
    await sleep(100);
    expect(atCarol).toEqual([]);
  });

  it("joining by use happens once: a second request does not announce the user again", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:history", { conversationId: id });
    const joinedAtAlice = collect(alice.socket, "room:userJoined");
    await ok(bob.socket, "typing:start", { conversationId: id });
    await ok(bob.socket, "message:send", { conversationId: id, body: "one" });
    await ok(bob.socket, "message:read", { conversationId: id, upToSeq: 1 });
    await sleep(150);
    expect(joinedAtAlice).toEqual([{ room: `conversation:${id}`, userId: "bob", name: "bob" }]);
  });

  it("call:{id} admits the call's participants, whom initiate and accept join; others are refused", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    const channel = `call:${call.id}`;
    // The ringing callee may join by hand before answering; accepting joins the accepting connection anyway.
    expect(await ok(bob.socket, "room:join", { room: channel })).toEqual({ room: channel });
    await ok(bob.socket, "call:accept", { callId: call.id });
    const names = (await ok(alice.socket, "room:participants", { room: channel })).participants.map((p: { userId: string }) => p.userId);
    expect(names.sort()).toEqual(["alice", "bob"]);
    const atAlice = nextEvent(alice.socket, "visit:updated");
    const atBob = nextEvent(bob.socket, "visit:updated");
    const atCarol = collect(carol.socket, "visit:updated");
    expect(await fails(carol.socket, "room:join", { room: channel })).toBe("forbidden");
    expect(await fails(carol.socket, "room:join", { room: "call:not-a-call" })).toBe("forbidden");
    await server.publish("acme", { channel, event: "visit:updated", data: { n: 2 } });
    expect(await Promise.all([atAlice, atBob])).toEqual([{ n: 2 }, { n: 2 }]);
    await sleep(100);
    expect(atCarol).toEqual([]);
  });

  it("conversation and call channels do not count against MAX_ROOMS_PER_CONNECTION", async () => {
    const { connect } = await startServer({ env: { MAX_ROOMS_PER_CONNECTION: "1" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    for (let i = 0; i < 3; i++) {
      const id = await createGroup(alice.socket, [`bob${i}`]);
      await ok(alice.socket, "message:send", { conversationId: id, body: "hi" });
    }
    expect(await ok(alice.socket, "room:join", { room: "topic:news" })).toEqual({ room: "topic:news" });
    expect(await fails(alice.socket, "room:join", { room: "topic:sports" })).toBe("forbidden");
  });
});

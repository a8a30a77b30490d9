import type { Socket } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { createGroup, ok } from "./support/chat-helpers.js";
import { channelEvent, collectChannel, PUSHER_ENV, pusherClient, subscribe, type PusherClient } from "./support/pusher-helpers.js";
import { redisUrl, twoNodes } from "./support/redis-helpers.js";
import { collect, nextEvent, sleep, startServer, testDb } from "./support/server-harness.js";
import { WsTestClient } from "./support/ws-client.js";

const SLOW = 120_000;

/** pusher-js authorized by Switchboard's own `/pusher/auth` with a user's JWT (never signed in: it is on no user channel). */
function pusherWithJwt(port: number, url: string, token: string): Promise<PusherClient> {
  return pusherClient(port, { channelAuthorization: { endpoint: `${url}/pusher/auth`, transport: "ajax", headers: { Authorization: `Bearer ${token}` } } });
}

/** Alice's group with `others`; Bob's socket reconnects by itself (recovery) and has seen one message through the conversation. */
async function conversationWithRecoverableBob(others: string[]): Promise<{ alice: Socket; bob: Socket; id: string }> {
  const { connect } = await startServer();
  const { socket: alice } = await connect({ sub: "alice", tenant: "acme" });
  const { socket: bob } = await connect({ sub: "bob", tenant: "acme" }, { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200 });
  const id = await createGroup(alice, others);
  await ok(bob, "message:history", { conversationId: id });
  const first = nextEvent(bob, "message:new");
  await ok(alice, "message:send", { conversationId: id, body: "before" });
  await first;
  return { alice, bob, id };
}

/** Drops the client's transport (a recoverable disconnect), runs `whileAway` once the server saw it go, and resolves with its next `connected`. */
async function dropAndReconnect(socket: Socket, whileAway: () => Promise<unknown>): Promise<{ recovered: boolean }> {
  const reconnected = nextEvent<{ recovered: boolean }>(socket, "connected", 5000);
  const dropped = nextEvent(socket, "disconnect");
  socket.io.engine.close();
  await dropped;
  await sleep(50);
  await whileAway();
  return reconnected;
}

// PROTOCOL.md section 4: message:new goes "to the conversation and to the sender's other devices".
describe("chat events on conversation:{id}", () => {
  it("message, receipt and typing events reach a pusher-js client subscribed only to private-conversation.{id}", async () => {
    const { connect, url, token } = await startServer({ env: PUSHER_ENV });
    const port = Number(new URL(url).port);
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const bob = await pusherWithJwt(port, url, await token({ sub: "bob", tenant: "acme" }));
    const channel = await subscribe(bob, `private-conversation.${id}`);
    const typing = channelEvent<{ userId: string }>(channel, "typing:start");
    await ok(alice.socket, "typing:start", { conversationId: id });
    expect((await typing).userId).toBe("alice");
    const arrived = channelEvent<{ message: { body: string; seq: number } }>(channel, "message:new");
    await ok(alice.socket, "message:send", { conversationId: id, body: "hello bob" });
    expect((await arrived).message).toMatchObject({ body: "hello bob", seq: 1 });
    const read = channelEvent<{ userId: string; upToSeq: number }>(channel, "message:read");
    await ok(alice.socket, "message:read", { conversationId: id, upToSeq: 1 });
    expect(await read).toMatchObject({ userId: "alice", upToSeq: 1 });
  });

  it("a plain WebSocket client subscribed to conversation:{id} gets each message once, framed with that channel", async () => {
    const { connect, url, token } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const bob = await WsTestClient.open(url, await token({ sub: "bob", tenant: "acme" }));
    bob.send({ type: "subscribe", id: "s1", channel: `conversation:${id}` });
    await bob.next((f) => f.type === "subscribed" && f.id === "s1");
    await ok(alice.socket, "message:send", { conversationId: id, body: "one" });
    const frame = await bob.next((f) => f.type === "message:new");
    expect(frame).toMatchObject({ channel: `conversation:${id}`, data: { message: { body: "one" } } });
    await sleep(150);
    expect(bob.frames.filter((f) => f.type === "message:new")).toEqual([]);
  });

  it("a Socket.IO participant on both its user channel and the conversation gets each event once", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(bob.socket, "message:history", { conversationId: id });
    const atBob = collect<{ message: { body: string } }>(bob.socket, "message:new");
    await ok(alice.socket, "message:send", { conversationId: id, body: "once" });
    await ok(alice.socket, "message:send", { conversationId: id, body: "twice" });
    await sleep(200);
    expect(atBob.map((e) => e.message.body)).toEqual(["once", "twice"]);
  });

  it("a removed participant's connections leave conversation:{id} on every protocol and get nothing more from it", async () => {
    const { connect, server, url, token } = await startServer({ env: PUSHER_ENV });
    const port = Number(new URL(url).port);
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob", "carol"]);
    const conversation = `conversation:${id}`;
    await ok(alice.socket, "message:send", { conversationId: id, body: "before" });
    await ok(bob.socket, "message:history", { conversationId: id });
    const bobWs = await WsTestClient.open(url, await token({ sub: "bob", tenant: "acme" }));
    bobWs.send({ type: "subscribe", id: "s1", channel: conversation });
    await bobWs.next((f) => f.type === "subscribed");
    // A pusher-js presence member "bob", signed by the app backend.
    const bobPusher = await pusherClient(port, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
    const presence = await subscribe(bobPusher, `presence-conversation.${id}`);
    // pusher-js authorized by Switchboard's /pusher/auth, never signed in: the signature names bob.
    const bobPrivate = await pusherWithJwt(port, url, await token({ sub: "bob", tenant: "acme" }));
    const privateChannel = await subscribe(bobPrivate, `private-conversation.${id}`);

    const left = nextEvent<{ userId: string }>(alice.socket, "room:userLeft");
    const removed = nextEvent<{ conversationId: string }>(bob.socket, "conversation:removed");
    await ok(alice.socket, "conversation:removeParticipants", { conversationId: id, userIds: ["bob"] });
    expect(await removed).toEqual({ conversationId: id });
    expect((await left).userId).toBe("bob");

    const atBob = collect(bob.socket, "message:new");
    const published = collect(bob.socket, "visit:updated");
    const atPusher = collectChannel(presence, "message:new");
    const atPrivate = collectChannel(privateChannel, "message:new");
    await ok(alice.socket, "message:send", { conversationId: id, body: "after" });
    await server.publish("acme", { channel: conversation, event: "visit:updated", data: { n: 1 } });
    await sleep(250);
    expect(atBob).toEqual([]);
    expect(published).toEqual([]);
    expect(atPusher).toEqual([]);
    expect(atPrivate).toEqual([]);
    expect(bobWs.frames.filter((f) => f.type === "message:new" || f.type === "visit:updated")).toEqual([]);
    const names = (await ok(alice.socket, "room:participants", { room: conversation })).participants.map((p: { userId: string }) => p.userId);
    expect(names).toEqual(["alice"]);
  });

  it("a participant removed while their device was away is not recovered into the conversation: nothing sent after the removal is replayed", async () => {
    const { alice, bob, id } = await conversationWithRecoverableBob(["bob", "carol"]);
    const atBob = collect<{ message: { body: string } }>(bob, "message:new");
    const { recovered } = await dropAndReconnect(bob, async () => {
      await ok(alice, "conversation:removeParticipants", { conversationId: id, userIds: ["bob"] });
      await ok(alice, "message:send", { conversationId: id, body: "after" });
    });
    expect(recovered).toBe(false);
    await sleep(200);
    expect(atBob).toEqual([]);
  });

  it("a participant still in the conversation is recovered with the messages it missed", async () => {
    const { alice, bob, id } = await conversationWithRecoverableBob(["bob"]);
    const atBob = collect<{ message: { body: string } }>(bob, "message:new");
    const { recovered } = await dropAndReconnect(bob, () => ok(alice, "message:send", { conversationId: id, body: "while away" }));
    expect(recovered).toBe(true);
    await sleep(200);
    expect(atBob.map((e) => e.message.body)).toEqual(["while away"]);
  });

  it("a participant removed while someone types does not get the server's automatic typing:stop", async () => {
    const { connect } = await startServer({ env: { TYPING_TIMEOUT_MS: "300" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob", "carol"]);
    const started = nextEvent(carol.socket, "typing:start");
    await ok(bob.socket, "typing:start", { conversationId: id });
    await started;
    const atCarol = collect(carol.socket, "typing:stop");
    const stopped = nextEvent<{ userId: string }>(alice.socket, "typing:stop", 3000);
    await ok(alice.socket, "conversation:removeParticipants", { conversationId: id, userIds: ["carol"] });
    expect((await stopped).userId).toBe("bob");
    await sleep(100);
    expect(atCarol).toEqual([]);
  });

  it("leaving a conversation takes all of the user's devices out of its channel", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const phone = await connect({ sub: "bob", tenant: "acme" });
    const laptop = await connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(phone.socket, "message:history", { conversationId: id });
    await ok(laptop.socket, "message:history", { conversationId: id });
    await ok(phone.socket, "conversation:leave", { conversationId: id });
    const atLaptop = collect(laptop.socket, "visit:updated");
    await server.publish("acme", { channel: `conversation:${id}`, event: "visit:updated", data: { n: 1 } });
    await sleep(200);
    expect(atLaptop).toEqual([]);
  });
});

describe.runIf(redisUrl && testDb === "postgres")("conversation:{id} eviction across nodes", () => {
  it(
    "a participant removed on one node stops receiving the conversation's events on the other",
    async () => {
      const { a, b } = await twoNodes();
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await b.connect({ sub: "bob", tenant: "acme" });
      const id = await createGroup(alice, ["bob", "carol"]);
      await ok(bob, "message:history", { conversationId: id });
      const first = nextEvent<{ message: { body: string } }>(bob, "message:new");
      await ok(alice, "message:send", { conversationId: id, body: "before" });
      expect((await first).message.body).toBe("before");

      const removed = nextEvent(bob, "conversation:removed");
      await ok(alice, "conversation:removeParticipants", { conversationId: id, userIds: ["bob"] });
      await removed;
      const atBob = collect(bob, "message:new");
      const published = collect(bob, "visit:updated");
      await ok(alice, "message:send", { conversationId: id, body: "after" });
      await a.server.publish("acme", { channel: `conversation:${id}`, event: "visit:updated", data: { n: 1 } });
      await sleep(400);
      expect(atBob).toEqual([]);
      expect(published).toEqual([]);
    },
    SLOW,
  );
});

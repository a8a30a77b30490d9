import { describe, expect, it } from "vitest";
import { collect, nextEvent, request, sleep, testDb } from "./support/server-harness.js";
import { createGroup, ok } from "./support/chat-helpers.js";
import { redisUrl, twoNodes } from "./support/redis-helpers.js";
import { nextChange } from "./support/presence-helpers.js";

// Starting two servers takes most of a test's time on a busy machine.
const SLOW = 120_000;

/**
 * Two nodes with a short presence lease (a stopping node leaves its departures to
 * the others' lease sweep) and the given offline grace: `userId`'s only device on
 * node a, which does not reconnect by itself, and a watcher on node b following
 * that user's presence.
 */
async function watchedOnStoppingNode(userId: string, offlineGraceMs: string) {
  const { a, b } = await twoNodes({ NODE_LEASE_MS: "900", PRESENCE_OFFLINE_GRACE_MS: offlineGraceMs });
  const leaving = await a.connect({ sub: userId, tenant: "acme" });
  leaving.socket.io.reconnection(false);
  const watcher = await b.connect({ sub: "wat", tenant: "acme" });
  await ok(watcher.socket, "presence:subscribe", { userIds: [userId] });
  return { a, b, leaving, watcher };
}

describe.runIf(redisUrl)("several nodes over Redis", () => {
  it("an event published on one node reaches subscribers on both nodes exactly once", async () => {
    const { a, b } = await twoNodes();
    const onA = await a.connect({ sub: "alice", tenant: "acme" });
    const onB = await b.connect({ sub: "bob", tenant: "acme" });
    const otherTenantOnB = await b.connect({ sub: "bob", tenant: "globex" });
    for (const c of [onA, onB, otherTenantOnB]) await ok(c.socket, "room:join", { room: "topic:clinic" });
    const seenA = collect(onA.socket, "appointment:created");
    const seenB = collect(onB.socket, "appointment:created");
    const leaked = collect(otherTenantOnB.socket, "appointment:created");
    await a.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 1 } });
    await b.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 2 } });
    await sleep(300);
    // Exactly once each; order is kept per publisher, not between two publishers on different nodes.
    const ids = (seen: unknown[]) => seen.map((e) => (e as { id: number }).id).sort();
    expect(ids(seenA)).toEqual([1, 2]);
    expect(ids(seenB)).toEqual([1, 2]);
    expect(leaked).toEqual([]);
  }, SLOW);

  it("what a node's graceful stop announces (room:userLeft, presence offline) reaches Socket.IO clients on the other node", async () => {
    // The stopping node leaves its departures' offline to the others' lease sweep: short lease and grace here.
    const { a, leaving, watcher } = await watchedOnStoppingNode("mem", "300");
    await ok(leaving.socket, "room:join", { room: "topic:ward" });
    await ok(watcher.socket, "room:join", { room: "topic:ward" });
    const left = nextEvent<any>(watcher.socket, "room:userLeft", 8000);
    const offline = nextChange(watcher.socket, "mem", 8000);
    await a.server.stop();
    expect(await left).toMatchObject({ room: "topic:ward", userId: "mem" });
    expect((await offline).status).toBe("offline");
  }, SLOW);

  it("a user whose device moves to another node during a graceful stop never reads offline: no flap for watchers", async () => {
    const { a, b, watcher } = await watchedOnStoppingNode("mover", "1500");
    const changes = collect<{ userId: string; status: string }>(watcher.socket, "presence:changed");
    await a.server.stop();
    // Back within the grace, on the node still running (as a client behind a balancer would be).
    await b.connect({ sub: "mover", tenant: "acme" });
    // Past the grace and several lease sweeps of node b.
    await sleep(3000);
    expect(changes.filter((c) => c.userId === "mover")).toEqual([]);
    expect(((await request(watcher.socket, "presence:get", { userIds: ["mover"] })) as any).data.presence[0].status).toBe("online");
  }, SLOW);

  it("rate limits are shared by the nodes", async () => {
    const { a, b } = await twoNodes({ RATE_LIMITS: "room=3/30" });
    const onA = await a.connect({ sub: "alice", tenant: "acme" });
    const onB = await b.connect({ sub: "alice", tenant: "acme" });
    await ok(onA.socket, "room:join", { room: "topic:a" });
    await ok(onA.socket, "room:join", { room: "topic:b" });
    await ok(onB.socket, "room:join", { room: "topic:c" });
    expect(((await request(onB.socket, "room:join", { room: "topic:d" })) as any).error.code).toBe("rate_limited");
  }, SLOW);

  it.runIf(testDb === "postgres")("a chat message sent on one node reaches the other participant on another node", async () => {
    const { a, b } = await twoNodes();
    const alice = await a.connect({ sub: "alice", tenant: "acme" });
    const bob = await b.connect({ sub: "bob", tenant: "acme" });
    const bobOnA = await a.connect({ sub: "bob", tenant: "acme" });
    const announced = nextEvent<any>(bob.socket, "conversation:new");
    const id = await createGroup(alice.socket, ["bob"]);
    expect((await announced).conversation.id).toBe(id);
    const atB = collect<any>(bob.socket, "message:new");
    const atA = collect<any>(bobOnA.socket, "message:new");
    for (let i = 1; i <= 5; i++) await ok(alice.socket, "message:send", { conversationId: id, body: `m${i}` });
    await sleep(300);
    expect(atB.map((e) => e.message.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(atA.map((e) => e.message.seq)).toEqual([1, 2, 3, 4, 5]);
  }, SLOW);

  it.runIf(testDb === "postgres")("a participant connected only on another node counts as online: no offline chat notification is stored for them", async () => {
    const { a, b } = await twoNodes();
    const alice = await a.connect({ sub: "alice", tenant: "acme" });
    const bob = await b.connect({ sub: "bob", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob", "carol"]);
    const live = nextEvent<any>(bob.socket, "message:new");
    await ok(alice.socket, "message:send", { conversationId: id, body: "hello" });
    await live;
    await sleep(300);
    const { rows } = await a.server.database.query<{ user_id: string }>("select user_id from notifications where type = 'message' order by user_id");
    // Carol has no connection anywhere; Bob is on node b, which node a learns from the shared presence.
    expect(rows.map((r) => r.user_id)).toEqual(["carol"]);
  }, SLOW);
});

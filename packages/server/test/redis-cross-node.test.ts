import { describe, expect, it } from "vitest";
import { RedisChannelMembers } from "../src/drivers/redis/redis-channel-members.js";
import { RedisTypingStore } from "../src/drivers/redis/redis-typing-store.js";
import { collect, nextEvent, request, sleep } from "./support/server-harness.js";
import { ok } from "./support/chat-helpers.js";
import { APP, backendFor, channelEvent, collectChannel, eventually, PUSHER_ENV, pusherClient, rawPusher, subscribe, webhookReceiver } from "./support/pusher-helpers.js";
import { freshPrefix, redisUrl, testRedis, twoNodes } from "./support/redis-helpers.js";
import { onCleanup, startServer, testDb } from "./support/server-harness.js";
import { hostPort, startTcpProxy } from "./support/tcp-proxy.js";

// Starting two servers is slow on a busy machine; the behaviour itself takes a second or two.
const SLOW = 120_000;

describe.runIf(redisUrl)("Socket.IO across nodes (Redis Streams adapter)", () => {
  it(
    "a client dropped on one node and reconnecting to another within the window is recovered with exactly the packets it missed",
    async () => {
      const { a, b } = await twoNodes();
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await b.connect({ sub: "bob", tenant: "acme" });
      await ok(alice, "room:join", { room: "topic:clinic" });
      await ok(bob, "room:join", { room: "topic:clinic" });
      const atAlice = collect<{ id: number }>(alice, "appointment:created");
      const atBob = collect<{ id: number }>(bob, "appointment:created");
      const membership: string[] = [];
      bob.on("room:userLeft", (e: { userId: string }) => membership.push(`left ${e.userId}`));
      bob.on("room:userJoined", (e: { userId: string }) => membership.push(`joined ${e.userId}`));
      await b.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 1 } });
      await eventually(() => expect(atAlice.map((e) => e.id)).toEqual([1]));

      // The network drops Alice's connection; node A keeps her session in Redis.
      const dropped = nextEvent(alice, "disconnect");
      alice.io.engine.close();
      await dropped;
      await sleep(200);
      await a.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 2 } });
      await b.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 3 } });
      await a.server.publish("globex", { channel: "topic:clinic", event: "appointment:created", data: { id: 99 } });

      // The load balancer sends her reconnection to node B.
      (alice.io as unknown as { uri: string }).uri = b.url;
      const connected = nextEvent<{ recovered: boolean }>(alice, "connected", 10_000);
      alice.connect();
      expect((await connected).recovered).toBe(true);
      expect(alice.recovered).toBe(true);
      await b.server.publish("acme", { channel: "topic:clinic", event: "appointment:created", data: { id: 4 } });
      await eventually(() => expect(atAlice.map((e) => e.id)).toEqual([1, 2, 3, 4]));
      await eventually(() => expect(atBob.map((e) => e.id)).toEqual([1, 2, 3, 4]));
      await sleep(300);
      expect(atAlice.map((e) => e.id)).toEqual([1, 2, 3, 4]);
      // Her room came along: the leave announced when she dropped is answered by a join on the new node, once each.
      expect(membership).toEqual(["left alice", "joined alice"]);
    },
    SLOW,
  );

  it(
    "a session recovered on another node within the offline grace stays online: no offline is announced when the old node's grace ends",
    async () => {
      const { a, b } = await twoNodes({ PRESENCE_OFFLINE_GRACE_MS: "1000" });
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: watcher } = await b.connect({ sub: "bob", tenant: "acme" });
      await ok(watcher, "presence:subscribe", { userIds: ["alice"] });
      const changes = collect<{ status: string }>(watcher, "presence:changed");

      const dropped = nextEvent(alice, "disconnect");
      alice.io.engine.close();
      await dropped;
      (alice.io as unknown as { uri: string }).uri = b.url;
      const connected = nextEvent<{ recovered: boolean }>(alice, "connected", 10_000);
      alice.connect();
      expect((await connected).recovered).toBe(true);
      // Past node A's grace, which ends for the connection id node B now holds.
      await sleep(1800);
      expect(changes).toEqual([]);
      const { presence } = await ok(watcher, "presence:get", { userIds: ["alice"] });
      expect(presence[0].status).toBe("online");
    },
    SLOW,
  );

  it(
    "events reach Socket.IO clients on every node once, never the sending connection, never another tenant",
    async () => {
      const { a, b } = await twoNodes();
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: aliceOnB } = await b.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await b.connect({ sub: "bob", tenant: "acme" });
      const { socket: stranger } = await b.connect({ sub: "bob", tenant: "globex" });
      for (const s of [alice, aliceOnB, bob, stranger]) await ok(s, "room:join", { room: "topic:x" });
      const joinedAtAlice = collect(alice, "room:userJoined");
      const leftAtAlice = collect<{ userId: string }>(alice, "room:userLeft");
      const seen = [alice, aliceOnB, bob, stranger].map((s) => collect(s, "appointment:created"));
      await a.server.publish("acme", { channels: ["topic:x", "user:bob"], event: "appointment:created", data: { id: 1 } });
      await eventually(() => expect(seen.map((list) => list.length)).toEqual([1, 1, 1, 0]));
      // A second connection of Bob (on node A) is not news; his last leave (on node B) is, once.
      const { socket: bobOnA } = await a.connect({ sub: "bob", tenant: "acme" });
      await ok(bobOnA, "room:join", { room: "topic:x" });
      await ok(bobOnA, "room:leave", { room: "topic:x" });
      bob.disconnect();
      await eventually(() => expect(leftAtAlice.map((e) => e.userId)).toEqual(["bob"]));
      await sleep(300);
      expect(seen.map((list) => list.length)).toEqual([1, 1, 1, 0]);
      expect(joinedAtAlice).toEqual([]);
      expect(leftAtAlice).toHaveLength(1);
    },
    SLOW,
  );

  it(
    "members left behind by a crashed node are announced as leaving once, by a surviving node, within the lease",
    async () => {
      const { a, b, prefix } = await twoNodes({ NODE_LEASE_MS: "600" });
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await b.connect({ sub: "bob", tenant: "acme" });
      await ok(alice, "room:join", { room: "topic:x" });
      await ok(bob, "room:join", { room: "topic:x" });
      // A third node held Carol's connection and died: it never renews.
      const dead = new RedisChannelMembers({ redis: testRedis(), prefix, nodeId: "node-c", leaseMs: 1500 });
      await dead.add("acme", "topic:x", "carol-1", { userId: "carol", name: "Carol" });
      const left = [collect<{ userId: string }>(alice, "room:userLeft"), collect<{ userId: string }>(bob, "room:userLeft")];
      const participants = async () => ((await ok(bob, "room:participants", { room: "topic:x" })) as { participants: { userId: string }[] }).participants.map((p) => p.userId).sort();
      expect(await participants()).toEqual(["alice", "bob", "carol"]);
      await eventually(() => expect(left.map((l) => l.map((e) => e.userId))).toEqual([["carol"], ["carol"]]), 5000);
      await sleep(1000);
      expect(left.map((l) => l.length)).toEqual([1, 1]);
      expect(await participants()).toEqual(["alice", "bob"]);
    },
    SLOW,
  );
});

/** One node whose Redis connections go through a TCP proxy the test can cut or stall. */
async function nodeBehindRedisProxy(env: Record<string, string> = {}) {
  const url = new URL(redisUrl!);
  const proxy = await startTcpProxy(hostPort(redisUrl!, 6379));
  onCleanup(() => proxy.close());
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  const node = await startServer({ env: { REDIS_URL: url.toString(), REDIS_PREFIX: freshPrefix(), ...env } });
  return { proxy, node };
}

describe.runIf(redisUrl)("one node while Redis is unreachable", () => {
  it(
    "its Socket.IO clients still get local events at once, and clients dropping (sessions not storable) do not stop the node",
    async () => {
      const { proxy, node } = await nodeBehindRedisProxy();
      const { socket: alice } = await node.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await node.connect({ sub: "bob", tenant: "acme" });
      await ok(alice, "room:join", { room: "topic:x" });
      await ok(bob, "room:join", { room: "topic:x" });
      const seen = collect<{ id: number }>(alice, "appointment:created");

      await proxy.cut("refuse");
      bob.io.engine.close();
      await node.server.publish("acme", { channel: "topic:x", event: "appointment:created", data: { id: 1 } });
      await eventually(() => expect(seen.map((e) => e.id)).toEqual([1]), 3000);
      const { socket: carol } = await node.connect({ sub: "carol", tenant: "acme" });
      expect(carol.connected).toBe(true);
      // Redis back: the node reconnects by itself.
      await proxy.restore();
      let ready = 0;
      for (const deadline = Date.now() + 10_000; ready !== 200 && Date.now() < deadline; await sleep(100)) ready = (await fetch(`${node.url}/readyz`)).status;
      expect(ready).toBe(200);
    },
    SLOW,
  );
});

describe.runIf(redisUrl)("one node while Redis holds connections without answering", () => {
  it(
    "new clients still connect and get local events within the command timeout, and the node recovers when Redis answers again",
    async () => {
      const { proxy, node } = await nodeBehindRedisProxy({ REDIS_COMMAND_TIMEOUT_MS: "500" });
      await node.connect({ sub: "alice", tenant: "acme" });

      // Connections stay open, bytes go nowhere: every Redis command would wait forever without the bound.
      proxy.stall();
      const started = Date.now();
      const { socket: carol } = await node.connect({ sub: "carol", tenant: "acme" });
      const seen = collect<{ id: number }>(carol, "appointment:created");
      await node.server.publish("acme", { channel: "user:carol", event: "appointment:created", data: { id: 7 } });
      await eventually(() => expect(seen.map((e) => e.id)).toEqual([7]), 5000);
      // A request that needs Redis answers, as when Redis is down, instead of hanging.
      const join = await request<{ ok: boolean; error?: { code: string } }>(carol, "room:join", { room: "topic:y" });
      expect(join.ok || join.error?.code === "unavailable").toBe(true);
      expect(Date.now() - started).toBeLessThan(8000);

      await proxy.restore();
      let ready = 0;
      for (const deadline = Date.now() + 15_000; ready !== 200 && Date.now() < deadline; await sleep(100)) ready = (await fetch(`${node.url}/readyz`)).status;
      expect(ready).toBe(200);
    },
    SLOW,
  );
});

describe.runIf(redisUrl)("typing across nodes", () => {
  it(
    "an indicator whose typist's node crashed still stops on time, announced once by one surviving node",
    async () => {
      const { a, b, prefix } = await twoNodes({ TYPING_TIMEOUT_MS: "400" });
      const { socket: bobOnA } = await a.connect({ sub: "bob", tenant: "acme" });
      const { socket: bobOnB } = await b.connect({ sub: "bob", tenant: "acme" });
      const stops = [collect(bobOnA, "typing:stop"), collect(bobOnB, "typing:stop")];
      // Alice's node wrote her indicator and died before its timer could fire.
      const crashed = new RedisTypingStore(testRedis(), prefix);
      await crashed.start({ tenantId: "acme", userId: "alice", conversationId: "c-1", name: "Alice", participants: ["alice", "bob"], connectionId: "gone" }, Date.now() + 400);
      await eventually(() => expect(stops).toEqual([[{ conversationId: "c-1", userId: "alice", name: "Alice" }], [{ conversationId: "c-1", userId: "alice", name: "Alice" }]]), 3000);
      await sleep(500);
      expect(stops.map((s) => s.length)).toEqual([1, 1]);
    },
    SLOW,
  );
});

describe.runIf(redisUrl && testDb === "postgres")("calls across nodes", () => {
  it(
    "a participant whose device drops on one node and comes back on another within the grace keeps the call",
    async () => {
      const { a, b } = await twoNodes({ CALL_GRACE_MS: "800", CALL_RING_TIMEOUT_MS: "10000" });
      const { socket: alice } = await a.connect({ sub: "alice", tenant: "acme" });
      const { socket: bob } = await a.connect({ sub: "bob", tenant: "acme" });
      const { call } = (await ok(alice, "call:initiate", { calleeIds: ["bob"], media: "audio" })) as { call: { id: string } };
      await ok(bob, "call:accept", { callId: call.id });
      const endings = collect(alice, "call:ended");
      bob.disconnect();
      await sleep(100);
      const { socket: bobOnB } = await b.connect({ sub: "bob", tenant: "acme" });
      await sleep(1500);
      expect(endings).toEqual([]);
      const ended = nextEvent<{ callId: string; reason: string }>(alice, "call:ended", 8000);
      bobOnB.disconnect();
      expect(await ended).toMatchObject({ callId: call.id, reason: "disconnected" });
    },
    SLOW,
  );
});

describe.runIf(redisUrl)("Pusher presence across nodes", () => {
  it(
    "members on both nodes see each other, member_added / member_removed cross nodes, queries count both nodes, webhooks are sent once",
    async () => {
      const hooks = await webhookReceiver();
      const { a, b } = await twoNodes({ ...PUSHER_ENV, PUSHER_WEBHOOK_URL: hooks.url });
      const [portA, portB] = [a, b].map((n) => Number(new URL(n.url).port)) as [number, number];
      const alice = await pusherClient(portA, { presence: { user_id: "alice", user_info: { name: "Alice" } } });
      const aliceChannel = await subscribe(alice, "presence-visit.7");
      const added = collectChannel<{ id: string; info: unknown }>(aliceChannel, "pusher:member_added");
      const removed = collectChannel<{ id: string }>(aliceChannel, "pusher:member_removed");

      const bob = await pusherClient(portB, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
      const bobChannel = (await subscribe(bob, "presence-visit.7")) as any;
      expect(bobChannel.members.count).toBe(2);
      expect(bobChannel.members.get("alice")).toEqual({ id: "alice", info: { name: "Alice" } });
      await eventually(() => expect(added).toEqual([{ id: "bob", info: { name: "Bob" } }]));
      // Bob's second device, on the other node: no news.
      const bob2 = await pusherClient(portA, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
      await subscribe(bob2, "presence-visit.7");

      // Either node answers for the whole deployment.
      for (const port of [portA, portB]) {
        const backend = backendFor(port);
        const info = await (await backend.get({ path: "/channels/presence-visit.7", params: { info: "user_count,subscription_count" } })).json();
        expect(info).toEqual({ occupied: true, user_count: 2, subscription_count: 3 });
        const users = (await (await backend.get({ path: "/channels/presence-visit.7/users" })).json()) as { users: { id: string }[] };
        expect(users.users.map((u) => u.id).sort()).toEqual(["alice", "bob"]);
      }
      // An event triggered through node B reaches the member on node A.
      const got = channelEvent(aliceChannel, "visit-updated");
      await backendFor(portB).trigger("presence-visit.7", "visit-updated", { room: 3 });
      expect(await got).toEqual({ room: 3 });

      bob.disconnect();
      await sleep(300);
      expect(removed).toEqual([]);
      bob2.disconnect();
      await eventually(() => expect(removed).toEqual([{ id: "bob", info: { name: "Bob" } }]));
      alice.disconnect();
      const names = (n: string) => hooks.received.flatMap((h) => h.body.events).filter((e) => e.name === n);
      await eventually(() => expect(names("channel_vacated")).toHaveLength(1));
      await sleep(300);
      expect(names("channel_occupied")).toEqual([{ name: "channel_occupied", channel: "presence-visit.7" }]);
      expect(names("channel_vacated")).toEqual([{ name: "channel_vacated", channel: "presence-visit.7" }]);
      expect(names("member_added").map((e) => e.user_id).sort()).toEqual(["alice", "bob"]);
      expect(names("member_removed").map((e) => e.user_id).sort()).toEqual(["alice", "bob"]);
      expect(hooks.received.every((h) => h.headers["x-pusher-key"] === APP.key)).toBe(true);
    },
    SLOW,
  );

  it("terminate_connections sent to one node closes the user's signed-in connections on both nodes with 4009", async () => {
    const { a, b } = await twoNodes(PUSHER_ENV);
    const [portA, portB] = [a, b].map((n) => Number(new URL(n.url).port)) as [number, number];
    const signedIn = await Promise.all(
      [portA, portB].map(async (port) => {
        const raw = await rawPusher(port);
        const { data } = await raw.next("pusher:connection_established");
        raw.send({ event: "pusher:signin", data: backendFor(port).authenticateUser(data.socket_id, { id: "bob" }) });
        await raw.next("pusher:signin_success");
        return raw;
      }),
    );
    const bystander = await rawPusher(portB);
    await bystander.next("pusher:connection_established");
    await backendFor(portA).terminateUserConnections("bob");
    expect(await Promise.all(signedIn.map(async (raw) => (await raw.closed).code))).toEqual([4009, 4009]);
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
  });
});

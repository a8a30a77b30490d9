import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@switchboard/server";
import { ChannelAuthorizer } from "../src/core/channels/channel-authorizer.js";
import { PresenceService } from "../src/core/presence/presence-service.js";
import { MemoryBroker } from "../src/drivers/memory/memory-broker.js";
import { MemoryPresenceStore } from "../src/drivers/memory/memory-presence-store.js";
import { migrate } from "../src/drivers/sql/migrations.js";
import { openDatabase } from "../src/drivers/sql/open-database.js";
import { SqlPresenceRecords } from "../src/drivers/sql/sql-presence-records.js";
import type { ChannelMessage } from "../src/ports/broker.js";
import type { PresenceConnection, PresenceStore } from "../src/ports/presence-store.js";
import { RedisPresenceStore } from "../src/drivers/redis/redis-presence-store.js";
import { databaseEnv, onCleanup, sleep, testDb } from "./support/server-harness.js";
import { freshPrefix, redisUrl, testRedis } from "./support/redis-helpers.js";
import { localConnection } from "./support/local-connection.js";

const now = () => new Date().toISOString();
const entry = (connectionId: string, userId: string, nodeId = "n1"): PresenceConnection => ({ connectionId, userId, nodeId, connectedAt: now(), idle: false });

async function openRecords() {
  const db = await openDatabase(loadConfig(databaseEnv()).database);
  onCleanup(() => db.close());
  await migrate(db);
  return new SqlPresenceRecords(db);
}

/**
 * Every PresenceStore driver passes the same contract: memory always, Redis when
 * REDIS_URL is set (CI requires it; see vitest.config.ts), with a fresh key prefix per test.
 */
const drivers: [string, () => PresenceStore][] = [
  ["MemoryPresenceStore", () => new MemoryPresenceStore()],
  ...(redisUrl ? [["RedisPresenceStore", () => new RedisPresenceStore({ redis: testRedis(), prefix: freshPrefix() })] as [string, () => PresenceStore]] : []),
];

describe.each(drivers)("%s (the PresenceStore contract)", (_name, newStore) => {
  it("entries are per tenant: the same user and connection ids in two tenants never meet", async () => {
    const store = newStore();
    await store.addConnection("acme", entry("c1", "bob"), 30_000);
    await store.setInCall("globex", "bob", true);
    expect([...(await store.users("acme", ["bob"])).values()]).toEqual([{ connections: [expect.objectContaining({ connectionId: "c1" })], inCall: false }]);
    expect((await store.users("globex", ["bob"])).get("bob")).toEqual({ connections: [], inCall: true });
    expect(await store.removeConnection("globex", "bob", "c1")).toBe(false);
    await store.addViewer("acme", "patient:1", { connectionId: "c1", userId: "bob", name: "Bob", nodeId: "n1", since: now() }, 30_000);
    expect(await store.viewers("globex", "patient:1")).toEqual([]);
    expect(await store.removeViewerEverywhere("globex", "c1")).toEqual([]);
    expect(await store.removeViewerEverywhere("acme", "c1")).toEqual([{ resource: "patient:1", viewer: expect.objectContaining({ userId: "bob" }) }]);
  });

  it("entries of a node that stops renewing expire, are handed out once and removed; renewed entries stay", async () => {
    const store = newStore();
    await store.addConnection("acme", entry("live", "alice", "live-node"), 100);
    await store.addConnection("acme", entry("dead", "bob", "dead-node"), 100);
    await store.addViewer("acme", "patient:1", { connectionId: "dead", userId: "bob", name: "Bob", nodeId: "dead-node", since: now() }, 100);
    await sleep(60);
    await store.renew("live-node", 100);
    await sleep(60);
    const expired = await store.takeExpired(Date.now());
    expect(expired.connections).toEqual([{ tenantId: "acme", connection: expect.objectContaining({ connectionId: "dead", userId: "bob" }), lastRenewedAt: expect.any(String) }]);
    expect(expired.viewers).toEqual([{ tenantId: "acme", resource: "patient:1", viewer: expect.objectContaining({ connectionId: "dead" }) }]);
    expect(await store.takeExpired(Date.now())).toEqual({ connections: [], viewers: [] });
    expect([...(await store.users("acme", ["alice", "bob"])).keys()]).toEqual(["alice"]);
    expect(await store.viewers("acme", "patient:1")).toEqual([]);
  });

  it("an entry a node adds extends the node's lease; when the lease runs out, all the node's entries go", async () => {
    const store = newStore();
    await store.addConnection("acme", entry("old", "alice", "n1"), 400);
    await store.addViewer("acme", "patient:1", { connectionId: "old", userId: "alice", name: "Alice", nodeId: "n1", since: now() }, 400);
    await sleep(250);
    await store.addConnection("acme", entry("new", "bob", "n1"), 400);
    await sleep(250); // past the first entries' 400 ms, within the node's extended lease
    expect(await store.takeExpired(Date.now())).toEqual({ connections: [], viewers: [] });
    await sleep(250);
    const expired = await store.takeExpired(Date.now());
    expect(expired.connections.map((e) => e.connection.connectionId).sort()).toEqual(["new", "old"]);
    expect(expired.viewers.map((e) => e.viewer.connectionId)).toEqual(["old"]);
    expect(await store.users("acme", ["alice", "bob"])).toEqual(new Map());
    expect(await store.viewers("acme", "patient:1")).toEqual([]);
  });

  it("viewing again from the same connection keeps the original since", async () => {
    const store = newStore();
    const since = "2020-01-01T00:00:00.000Z";
    await store.addViewer("acme", "patient:1", { connectionId: "c1", userId: "bob", name: "Bob", nodeId: "n1", since }, 30_000);
    await store.addViewer("acme", "patient:1", { connectionId: "c1", userId: "bob", name: "Bob", nodeId: "n1", since: now() }, 30_000);
    expect((await store.viewers("acme", "patient:1")).map((v) => v.since)).toEqual([since]);
  });
});

describe(`SqlPresenceRecords (${testDb})`, () => {
  it("update creates the record and keeps every field the patch does not name; tenants are separate", async () => {
    const records = await openRecords();
    expect(await records.get("acme", ["bob"])).toEqual(new Map());
    expect(await records.update("acme", "bob", { status: "busy", custom: { text: "rounds", mood: { value: 3, label: "ok" } } })).toEqual({
      status: "busy",
      custom: { text: "rounds", mood: { value: 3, label: "ok" } },
      lastSeen: null,
    });
    const lastSeen = "2026-01-02T03:04:05.678Z";
    expect(await records.update("acme", "bob", { lastSeen })).toEqual({ status: "busy", custom: { text: "rounds", mood: { value: 3, label: "ok" } }, lastSeen });
    expect(await records.update("acme", "bob", { status: "online", custom: null })).toEqual({ status: "online", custom: null, lastSeen });
    expect(await records.update("acme", "bob", { custom: { mood: { value: 5, label: "great" } } })).toEqual({ status: "online", custom: { mood: { value: 5, label: "great" } }, lastSeen });
    expect(await records.get("globex", ["bob"])).toEqual(new Map());
    expect([...(await records.get("acme", ["bob", "nobody"])).keys()]).toEqual(["bob"]);
  });
});

describe.each(drivers)("presence after a node crash (%s)", (_name, newStore) => {
  it("the connections and views a stopped node left behind expire, and its users are announced offline with lastSeen", async () => {
    const store = newStore();
    const broker = new MemoryBroker();
    const seen: ChannelMessage[] = [];
    broker.subscribe((message) => seen.push(message));
    const service = new PresenceService({
      store,
      records: await openRecords(),
      broker,
      authorizer: new ChannelAuthorizer([]),
      logger: pino({ level: "silent" }),
      nodeId: "live-node",
      idleMs: 0,
      offlineGraceMs: 0,
      leaseMs: 150,
    });
    onCleanup(() => service.close());
    // Bob's device was on another node, which crashed and so never renews.
    await store.addConnection("acme", entry("dead-1", "bob", "dead-node"), 150);
    await store.addViewer("acme", "patient:42", { connectionId: "dead-1", userId: "bob", name: "Bob", nodeId: "dead-node", since: now() }, 150);
    await service.connect(localConnection("alive-1", { userId: "alice", tenantId: "acme", name: "Alice", roles: [] }));
    expect((await service.get("acme", ["bob", "alice"])).map((p) => p.status)).toEqual(["online", "online"]);

    service.start();
    await sleep(600);
    const bobChanges = seen.filter((m) => m.event === "presence:changed" && (m.data as { userId: string }).userId === "bob");
    expect(bobChanges).toEqual([
      { tenantId: "acme", channels: ["presence:bob"], event: "presence:changed", data: { userId: "bob", status: "offline", lastSeen: expect.any(String), custom: null } },
    ]);
    expect(seen.filter((m) => m.event === "presence:activity")).toEqual([
      expect.objectContaining({ tenantId: "acme", channels: ["viewers:patient:42"], data: { resource: "patient:42", userId: "bob", name: "Bob", active: false } }),
    ]);
    // This node keeps renewing its own entries: Alice stays online.
    expect((await service.get("acme", ["alice"]))[0]!.status).toBe("online");
  });
});

describe.runIf(redisUrl)("RedisPresenceStore shared by several nodes", () => {
  it("each node sees every node's entries, and a dead node's entries go to exactly one of the sweeping nodes", async () => {
    const prefix = freshPrefix();
    const [a, b, dead] = [0, 1, 2].map(() => new RedisPresenceStore({ redis: testRedis(), prefix }));
    await a!.addConnection("acme", entry("a1", "alice", "node-a"), 30_000);
    await dead!.addConnection("acme", entry("d1", "bob", "node-d"), 100);
    await dead!.addConnection("acme", entry("d2", "bob", "node-d"), 100);
    await dead!.addViewer("acme", "patient:1", { connectionId: "d1", userId: "bob", name: "Bob", nodeId: "node-d", since: now() }, 100);
    expect(await b!.setIdle("acme", "alice", "a1", true)).toBe(true);
    const seen = await b!.users("acme", ["alice", "bob"]);
    expect(seen.get("alice")?.connections).toEqual([expect.objectContaining({ connectionId: "a1", nodeId: "node-a", idle: true })]);
    expect(seen.get("bob")?.connections.map((c) => c.connectionId)).toEqual(["d1", "d2"]);
    await sleep(150);
    const [fromA, fromB] = await Promise.all([a!.takeExpired(Date.now()), b!.takeExpired(Date.now())]);
    const taken = [...fromA.connections, ...fromB.connections].map((e) => e.connection.connectionId).sort();
    expect(taken).toEqual(["d1", "d2"]);
    expect(fromA.viewers.length + fromB.viewers.length).toBe(1);
    expect([...(await a!.users("acme", ["alice", "bob"])).keys()]).toEqual(["alice"]);
  });

  it("a node restarted under the same id does not keep its previous life's entries alive", async () => {
    const prefix = freshPrefix();
    const before = new RedisPresenceStore({ redis: testRedis(), prefix });
    const after = new RedisPresenceStore({ redis: testRedis(), prefix });
    await before.addConnection("acme", entry("old", "bob", "node-a"), 100);
    await after.addConnection("acme", entry("new", "alice", "node-a"), 100);
    await sleep(60);
    await after.renew("node-a", 100);
    await sleep(60);
    expect((await after.takeExpired(Date.now())).connections.map((e) => e.connection.connectionId)).toEqual(["old"]);
  });
});

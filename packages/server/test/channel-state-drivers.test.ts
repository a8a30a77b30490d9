import { describe, expect, it } from "vitest";
import { MemoryChannelMembers } from "../src/drivers/memory/memory-channel-members.js";
import { MemoryChannelOccupancy } from "../src/drivers/memory/memory-channel-occupancy.js";
import { RedisChannelMembers } from "../src/drivers/redis/redis-channel-members.js";
import { RedisChannelOccupancy } from "../src/drivers/redis/redis-channel-occupancy.js";
import type { ChannelMembers } from "../src/ports/channel-members.js";
import type { ChannelOccupancy } from "../src/ports/channel-occupancy.js";
import { Redis } from "ioredis";
import { DependencyUnavailableError } from "../src/ports/errors.js";
import { eventually } from "./support/pusher-helpers.js";
import { onCleanup, sleep } from "./support/server-harness.js";
import { hostPort, startTcpProxy } from "./support/tcp-proxy.js";
import { freshPrefix, redisUrl, testRedis } from "./support/redis-helpers.js";

const alice = { userId: "alice", name: "Alice" };
const bob = { userId: "bob", name: "Bob", info: { role: "nurse" } };

/** Nodes of one deployment: memory is one node; Redis drivers of two nodes share a fresh prefix. */
type Nodes<T> = (count: number, leaseMs?: number) => T[];
const memberDrivers: [string, Nodes<ChannelMembers>][] = [
  ["MemoryChannelMembers", () => [new MemoryChannelMembers()]],
  ...(redisUrl
    ? [["RedisChannelMembers", redisNodes((nodeId, prefix, leaseMs) => new RedisChannelMembers({ redis: testRedis(), prefix, nodeId, leaseMs }))] as [string, Nodes<ChannelMembers>]]
    : []),
];
const occupancyDrivers: [string, Nodes<ChannelOccupancy>][] = [
  ["MemoryChannelOccupancy", () => [new MemoryChannelOccupancy()]],
  ...(redisUrl
    ? [["RedisChannelOccupancy", redisNodes((nodeId, prefix, leaseMs) => new RedisChannelOccupancy({ redis: testRedis(), prefix, nodeId, leaseMs }))] as [string, Nodes<ChannelOccupancy>]]
    : []),
];

function redisNodes<T>(make: (nodeId: string, prefix: string, leaseMs: number) => T): Nodes<T> {
  return (count, leaseMs = 30_000) => {
    const prefix = freshPrefix();
    return Array.from({ length: count }, (_, i) => make(`node-${i}`, prefix, leaseMs));
  };
}

/** The same driver on two nodes, or the one memory node twice. */
const pair = <T>(nodes: T[]): [T, T] => [nodes[0]!, nodes[1] ?? nodes[0]!];

describe.each(memberDrivers)("%s (the ChannelMembers contract)", (_name, nodes) => {
  it("a user is listed once however many connections (on any node), joins first and leaves last", async () => {
    const [a, b] = pair(nodes(2));
    expect(await a.add("acme", "topic:x", "c1", alice)).toEqual({ firstJoin: true });
    expect(await b.add("acme", "topic:x", "c2", alice)).toEqual({ firstJoin: false });
    expect(await a.add("acme", "topic:x", "c1", alice)).toEqual({ firstJoin: false });
    expect(await b.add("acme", "topic:x", "c3", bob)).toEqual({ firstJoin: true });
    expect(await a.list("acme", "topic:x")).toEqual([alice, bob]);
    expect(await b.count("acme", "topic:x")).toBe(2);
    expect(await b.count("acme", "topic:y")).toBe(0);
    expect(await b.remove("acme", "topic:x", "c1")).toEqual({ lastLeave: false });
    expect(await a.remove("acme", "topic:x", "c1")).toEqual({ lastLeave: false });
    expect(await a.remove("acme", "topic:x", "c2")).toEqual({ lastLeave: true, member: alice });
    expect(await b.list("acme", "topic:x")).toEqual([bob]);
    expect(await a.count("acme", "topic:x")).toBe(1);
  });

  it("channels and connections of two tenants never meet", async () => {
    const [a] = pair(nodes(2));
    await a.add("acme", "topic:x", "c1", alice);
    expect(await a.list("globex", "topic:x")).toEqual([]);
    expect(await a.count("globex", "topic:x")).toBe(0);
    expect(await a.remove("globex", "topic:x", "c1")).toEqual({ lastLeave: false });
    expect(await a.removeConnection("globex", "c1")).toEqual([]);
    expect(await a.list("acme", "topic:x")).toEqual([alice]);
  });

  it("removeConnection drops a connection everywhere and reports where its user is gone", async () => {
    const [a, b] = pair(nodes(2));
    await a.add("acme", "topic:x", "c1", bob);
    await a.add("acme", "topic:y", "c1", bob);
    await b.add("acme", "topic:y", "c2", bob);
    expect(await b.removeConnection("acme", "c1")).toEqual([{ channel: "topic:x", member: bob }]);
    expect(await a.removeConnection("acme", "c1")).toEqual([]);
    expect(await a.list("acme", "topic:x")).toEqual([]);
    expect(await a.list("acme", "topic:y")).toEqual([bob]);
  });
});

describe.each(occupancyDrivers)("%s (the ChannelOccupancy contract)", (_name, nodes) => {
  it("counts subscriptions across nodes; occupied on the first, vacated on the last, idempotent per connection", async () => {
    const [a, b] = pair(nodes(2));
    expect(await a.add("acme", "presence-room", "s1")).toEqual({ occupied: true });
    expect(await b.add("acme", "presence-room", "s2")).toEqual({ occupied: false });
    expect(await b.add("acme", "presence-room", "s2")).toEqual({ occupied: false });
    await b.add("acme", "news", "s2");
    await a.add("globex", "news", "s9");
    expect(await a.count("acme", "presence-room")).toBe(2);
    expect(await b.list("acme")).toEqual(new Map([["news", 1], ["presence-room", 2]]));
    expect(await b.list("acme", "presence-")).toEqual(new Map([["presence-room", 2]]));
    expect(await a.remove("acme", "presence-room", "s1")).toEqual({ vacated: false });
    expect(await a.remove("acme", "presence-room", "s1")).toEqual({ vacated: false });
    expect(await a.removeConnection("acme", "s2")).toEqual(expect.arrayContaining(["news", "presence-room"]));
    expect(await b.list("acme")).toEqual(new Map());
    expect(await b.count("globex", "news")).toBe(1);
  });
});

describe.runIf(redisUrl)("Redis channel state after a node crash", () => {
  it("a stopped node's members are taken once by one surviving node, which learns whose last connection it was", async () => {
    const [live, other, dead] = redisNodes((nodeId, prefix, leaseMs) => new RedisChannelMembers({ redis: testRedis(), prefix, nodeId, leaseMs }))(3, 150);
    await live!.add("acme", "topic:x", "l1", alice);
    await dead!.add("acme", "topic:x", "d1", alice);
    await dead!.add("acme", "topic:x", "d2", bob);
    await dead!.add("acme", "topic:y", "d2", bob);
    for (let i = 0; i < 4; i++) {
      await sleep(50);
      await Promise.all([live!.renew(), other!.renew()]);
    }
    const [x, y] = await Promise.all([live!.takeExpired(Date.now()), other!.takeExpired(Date.now())]);
    const taken = [...x, ...y].map((e) => `${e.tenantId} ${e.channel} ${e.member.userId}`).sort();
    // Alice still has a live connection in topic:x: she is not gone.
    expect(taken).toEqual(["acme topic:x bob", "acme topic:y bob"]);
    expect(await live!.list("acme", "topic:x")).toEqual([alice]);
    expect(await live!.takeExpired(Date.now())).toEqual([]);
  });

  it("a stopped node's subscriptions are taken once, with the names they vacated", async () => {
    const [live, dead] = redisNodes((nodeId, prefix, leaseMs) => new RedisChannelOccupancy({ redis: testRedis(), prefix, nodeId, leaseMs }))(2, 150);
    await live!.add("acme", "shared", "l1");
    await dead!.add("acme", "shared", "d1");
    await dead!.add("acme", "lonely", "d1");
    for (let i = 0; i < 4; i++) {
      await sleep(50);
      await live!.renew();
    }
    expect(await live!.takeExpired(Date.now())).toEqual([{ tenantId: "acme", name: "lonely" }]);
    expect(await live!.list("acme")).toEqual(new Map([["shared", 1]]));
    expect(await live!.takeExpired(Date.now())).toEqual([]);
  });
});

describe.runIf(redisUrl)("Redis channel state while Redis is away", () => {
  it("a removal lost to an outage is retried before the next renewal, so the departed connection does not live on", async () => {
    const url = new URL(redisUrl!);
    const proxy = await startTcpProxy(hostPort(redisUrl!, 6379));
    onCleanup(() => proxy.close());
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    // Configured as the server configures its client: fail fast while Redis is unreachable.
    const redis = new Redis(url.toString(), { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
    redis.on("error", () => {});
    onCleanup(async () => void redis.disconnect());
    const prefix = freshPrefix();
    const node = new RedisChannelMembers({ redis, prefix, nodeId: "node-a", leaseMs: 30_000 });
    const other = new RedisChannelMembers({ redis: testRedis(), prefix, nodeId: "node-b", leaseMs: 30_000 });
    await eventually(() => expect(redis.status).toBe("ready"));
    await node.add("acme", "topic:x", "c1", alice);

    await proxy.cut("refuse");
    await expect(node.remove("acme", "topic:x", "c1")).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(node.renew()).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await other.list("acme", "topic:x")).toEqual([alice]);

    await proxy.restore();
    await eventually(() => expect(redis.status).toBe("ready"), 5000);
    await node.renew();
    expect(await other.list("acme", "topic:x")).toEqual([]);
  });
});

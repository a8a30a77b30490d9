import { describe, expect, it } from "vitest";
import { MemoryTypingStore } from "../src/drivers/memory/memory-typing-store.js";
import { RedisTypingStore } from "../src/drivers/redis/redis-typing-store.js";
import type { TypingEntry, TypingStore } from "../src/ports/typing-store.js";
import { freshPrefix, redisUrl, testRedis } from "./support/redis-helpers.js";

/** Two nodes' stores: the one memory store twice, or two Redis stores on one fresh prefix. */
const drivers: [string, () => [TypingStore, TypingStore]][] = [
  ["MemoryTypingStore", () => {
    const store = new MemoryTypingStore();
    return [store, store];
  }],
  ...(redisUrl
    ? [["RedisTypingStore", () => {
        const prefix = freshPrefix();
        return [new RedisTypingStore(testRedis(), prefix), new RedisTypingStore(testRedis(), prefix)];
      }] as [string, () => [TypingStore, TypingStore]]]
    : []),
];

const typing = (userId: string, connectionId?: string): TypingEntry => ({ tenantId: "acme", userId, conversationId: "conv-1", name: userId.toUpperCase(), participants: ["alice", "bob"], connectionId });

describe.each(drivers)("%s (the TypingStore contract)", (_name, nodes) => {
  it("an indicator starts once on any node, refreshes, and ends exactly once", async () => {
    const [a, b] = nodes();
    const now = Date.now();
    expect(await a.refresh("acme", "alice", "conv-1", now + 1000, "c1")).toBe(false);
    expect(await a.start(typing("alice", "c1"), now + 1000)).toBe(true);
    expect(await b.start(typing("alice", "c2"), now + 1000)).toBe(false);
    expect(await b.refresh("acme", "alice", "conv-1", now + 5000, "c2")).toBe(true);
    expect(await a.takeExpired(now + 2000)).toEqual([]);
    // The indicator now belongs to c2: closing c1 ends nothing.
    expect(await a.stopConnection("acme", "c1")).toEqual([]);
    expect(await a.stop("globex", "alice", "conv-1")).toBeUndefined();
    expect(await b.stop("acme", "alice", "conv-1")).toEqual(typing("alice", "c2"));
    expect(await a.stop("acme", "alice", "conv-1")).toBeUndefined();
  });

  it("expired indicators and those of a closed connection are handed out once", async () => {
    const [a, b] = nodes();
    const now = Date.now();
    await a.start(typing("alice", "c1"), now + 100);
    await a.start({ ...typing("bob", "c9"), participants: [] }, now + 10_000);
    const [x, y] = await Promise.all([a.takeExpired(now + 200), b.takeExpired(now + 200)]);
    expect([...x, ...y]).toEqual([typing("alice", "c1")]);
    expect(await b.stopConnection("acme", "c9")).toEqual([{ ...typing("bob", "c9"), participants: [] }]);
    expect(await a.stopConnection("acme", "c9")).toEqual([]);
    expect(await a.takeExpired(now + 20_000)).toEqual([]);
  });
});

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppendBatcher } from "../src/drivers/sql/append-batcher.js";
import { SqlChatStore } from "../src/drivers/sql/sql-chat-store.js";
import { DependencyUnavailableError } from "../src/ports/errors.js";
import type { AppendResult, NewMessage } from "../src/ports/chat-store.js";
import type { SqlDatabase } from "../src/ports/sql-database.js";
import { startServer, testDb } from "./support/server-harness.js";

const TENANT = "acme";

/** The test server's database, with every statement counted. */
async function countingDatabase() {
  const { server } = await startServer();
  const db = server.database;
  const counter = { statements: 0 };
  const counted: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
    query: (text: string, params?: unknown[], options?: { prepare?: string }) => {
      counter.statements++;
      return db.query(text, params, options);
    },
  });
  return { db, counted, counter };
}

async function group(store: SqlChatStore, members: string[]): Promise<string> {
  const id = randomUUID();
  await store.createConversation({ id, tenantId: TENANT, type: "group", title: "t", createdBy: members[0]!, participantIds: members, now: new Date() });
  return id;
}

function send(store: SqlChatStore, conversationId: string, senderId: string, body: string, extra: Partial<NewMessage> = {}): Promise<AppendResult> {
  return store.appendMessage({ id: randomUUID(), tenantId: TENANT, conversationId, senderId, senderName: senderId, body, now: new Date(), ...extra });
}

const stored = (result: AppendResult) => {
  if (result.kind !== "stored") throw new Error(`expected stored, got ${result.kind}`);
  return result.message;
};

async function seqsOf(db: SqlDatabase, conversationId: string): Promise<{ seq: number; body: string }[]> {
  const { rows } = await db.query<{ seq: number; body: string }>("select seq, body from messages where conversation_id = $1 order by seq", [conversationId]);
  return rows;
}

describe(`chat sends stored together (${testDb})`, () => {
  it("stores concurrent sends to several conversations in fewer statements than sends, gapless and in arrival order per conversation", async () => {
    const { db, counted, counter } = await countingDatabase();
    const store = new SqlChatStore(counted);
    const conversations = await Promise.all([0, 1, 2].map(() => group(store, ["a", "b"])));
    counter.statements = 0;
    const results = await Promise.all(conversations.flatMap((c) => Array.from({ length: 30 }, (_, i) => send(store, c, i % 2 ? "a" : "b", `m${i}`))));
    expect(results.every((r) => r.kind === "stored")).toBe(true);
    expect(counter.statements).toBeLessThan(30);
    for (const c of conversations) {
      expect(await seqsOf(db, c)).toEqual(Array.from({ length: 30 }, (_, i) => ({ seq: i + 1, body: `m${i}` })));
      const conversation = await store.getConversation(TENANT, c);
      expect(conversation?.lastSeq).toBe(30);
    }
    // Every stored message comes back with its conversation's participants, for delivery.
    expect(results.every((r) => r.kind === "stored" && [...r.participantIds].sort().join() === "a,b")).toBe(true);
  });

  it("gives each send of a mixed batch its own outcome and stores only the valid ones", async () => {
    const { db } = await countingDatabase();
    const store = new SqlChatStore(db);
    const c = await group(store, ["a", "b"]);
    const other = await group(store, ["x", "y"]);
    const first = stored(await send(store, c, "a", "first", { clientMessageId: "k1" }));
    const foreign = stored(await send(store, other, "x", "elsewhere"));
    const [ok1, outsider, badReply, retry, differentBody, ok2, reply] = await Promise.all([
      send(store, c, "a", "ok1"),
      send(store, c, "mallory", "not a member"),
      send(store, c, "b", "reply to another conversation", { replyTo: foreign.id }),
      send(store, c, "a", "first", { clientMessageId: "k1" }),
      send(store, c, "a", "changed", { clientMessageId: "k1" }),
      send(store, c, "b", "ok2"),
      send(store, c, "b", "a real reply", { replyTo: first.id }),
    ]);
    expect(outsider).toEqual({ kind: "not_participant" });
    expect(badReply).toEqual({ kind: "bad_reply" });
    expect(retry).toEqual({ kind: "duplicate", message: first });
    // The store reports the original, and the chat service returns it (PROTOCOL.md section 4).
    expect(differentBody).toEqual({ kind: "duplicate", message: first });
    expect([stored(ok1).seq, stored(ok2).seq, stored(reply).seq]).toEqual([2, 3, 4]);
    expect(await seqsOf(db, c)).toEqual([
      { seq: 1, body: "first" },
      { seq: 2, body: "ok1" },
      { seq: 3, body: "ok2" },
      { seq: 4, body: "a real reply" },
    ]);
  });

  it("stores one row for a clientMessageId repeated inside one batch and answers the repeat with the original", async () => {
    const { db } = await countingDatabase();
    const store = new SqlChatStore(db);
    const c = await group(store, ["a", "b"]);
    const results = await Promise.all([send(store, c, "b", "warm-up"), ...Array.from({ length: 5 }, () => send(store, c, "a", "same", { clientMessageId: "twice" }))]);
    const original = stored(results[1]!);
    expect(results.slice(2)).toEqual(Array.from({ length: 4 }, () => ({ kind: "duplicate", message: original })));
    expect(await seqsOf(db, c)).toEqual([
      { seq: 1, body: "warm-up" },
      { seq: 2, body: "same" },
    ]);
  });

  it("falls back to one send at a time when the batch statement fails, so one bad send costs the others nothing", async () => {
    const { db } = await countingDatabase();
    // One statement at a time, so the broken send shares the batch of the others.
    const store = new SqlChatStore(db, { appendsInFlight: 1 });
    const c = await group(store, ["a", "b"]);
    // Not a uuid: the batch statement's cast fails as a whole; alone, only this send fails.
    const results = await Promise.allSettled([send(store, c, "a", "one"), send(store, c, "a", "two"), send(store, "not-a-uuid", "a", "broken"), send(store, c, "b", "three")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(await seqsOf(db, c)).toEqual([
      { seq: 1, body: "one" },
      { seq: 2, body: "two" },
      { seq: 3, body: "three" },
    ]);
  });

  it("loses and repeats nothing when two stores batch the same conversations at once, as two nodes do", async () => {
    const { db } = await countingDatabase();
    const [s1, s2] = [new SqlChatStore(db, { appendsInFlight: 1 }), new SqlChatStore(db, { appendsInFlight: 1 })];
    const conversations = await Promise.all([0, 1, 2, 3].map(() => group(s1, ["a", "b"])));
    // Opposite orders on the two stores: the pattern that can deadlock two multi-row batches.
    const jobs = [];
    for (let round = 0; round < 10; round++) {
      for (const c of conversations) jobs.push(send(s1, c, "a", `s1-${round}`));
      for (const c of [...conversations].reverse()) jobs.push(send(s2, c, "b", `s2-${round}`));
    }
    const results = await Promise.all(jobs);
    expect(results.every((r) => r.kind === "stored")).toBe(true);
    for (const c of conversations) {
      const rows = await seqsOf(db, c);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      // Each store's sends keep their order within the conversation.
      for (const prefix of ["s1-", "s2-"]) {
        expect(rows.map((r) => r.body).filter((b) => b.startsWith(prefix))).toEqual(Array.from({ length: 10 }, (_, i) => `${prefix}${i}`));
      }
    }
  });

  it("fails every send of a batch as unavailable, without retrying any, when the database drops out under it", async () => {
    let single = 0;
    const batcher = new AppendBatcher({
      appendMany: async () => {
        throw new DependencyUnavailableError("database");
      },
      // The first send goes alone and is stored; the three that queue behind it form the batch.
      appendOne: async (input) => (single++ === 0 ? { kind: "stored", message: { id: input.id } as never, participantIds: [] } : { kind: "not_participant" }),
      maxInFlight: 1,
      maxBatch: 100,
    });
    const message = (id: string): NewMessage => ({ id, tenantId: TENANT, conversationId: "c", senderId: "a", senderName: "a", body: id, now: new Date() });
    const results = await Promise.allSettled(["m1", "m2", "m3", "m4"].map((id) => batcher.append(message(id))));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "rejected"]);
    expect(results.slice(1).every((r) => r.status === "rejected" && r.reason instanceof DependencyUnavailableError)).toBe(true);
    // Only the lone first send took the single path: a batch whose commit may have happened is never replayed.
    expect(single).toBe(1);
  });

  it("starts a send at once when its conversation has nothing in flight and a slot is free, and never runs two statements for one conversation", async () => {
    // Every statement stays open until the test ends it, so what runs at the same time is visible.
    const open: { ids: string[]; end: () => void }[] = [];
    const hold = (ids: string[]) => new Promise<void>((end) => open.push({ ids, end }));
    const storedAs = (input: NewMessage) => ({ kind: "stored" as const, message: { id: input.id } as never, participantIds: [] });
    const batcher = new AppendBatcher({
      appendOne: async (input) => {
        await hold([input.id]);
        return storedAs(input);
      },
      appendMany: async (inputs) => {
        await hold(inputs.map((input) => input.id));
        return new Map(inputs.map((input) => [input.id, storedAs(input)]));
      },
      maxInFlight: 2,
      maxBatch: 100,
    });
    const message = (id: string, conversationId: string): NewMessage => ({ id, tenantId: TENANT, conversationId, senderId: "a", senderName: "a", body: id, now: new Date() });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const results = [batcher.append(message("a1", "A")), batcher.append(message("a2", "A")), batcher.append(message("b1", "B")), batcher.append(message("c1", "C"))];
    await settle();
    // a1 runs; a2 waits for it (same conversation); b1 takes the second slot; c1 waits for a slot.
    expect(open.map((s) => s.ids)).toEqual([["a1"], ["b1"]]);
    open[1]!.end();
    await settle();
    // B's statement ended: the free slot takes c1, not a2, whose conversation still has a1 in flight.
    expect(open.slice(2).map((s) => s.ids)).toEqual([["c1"]]);
    batcher.append(message("c2", "C"));
    batcher.append(message("a3", "A"));
    open[0]!.end();
    await settle();
    // A is free again: its two waiting sends go together, in order; c2 still waits for c1.
    expect(open.slice(3).map((s) => s.ids)).toEqual([["a2", "a3"]]);
    open[2]!.end();
    await settle();
    expect(open.slice(4).map((s) => s.ids)).toEqual([["c2"]]);
    for (const statement of open) statement.end();
    await expect(Promise.all(results)).resolves.toHaveLength(4);
  });
});

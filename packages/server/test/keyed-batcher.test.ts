import { describe, expect, it } from "vitest";
import { KeyedBatcher } from "../src/drivers/sql/keyed-batcher.js";
import { SqlPresenceRecords } from "../src/drivers/sql/sql-presence-records.js";
import type { SqlDatabase } from "../src/ports/sql-database.js";
import { startServer } from "./support/server-harness.js";

/** A load whose statements the test finishes by hand, recording what each asked for. */
function manualLoad() {
  const calls: { scope: string; ids: string[]; finish: (rows?: Map<string, string>) => void; fail: (err: Error) => void }[] = [];
  const load = (scope: string, ids: string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push({
        scope,
        ids,
        // By default every id has a row named after it and its scope.
        finish: (rows) => resolve(rows ?? new Map(ids.map((id) => [id, `${scope}:${id}`]))),
        fail: reject,
      });
    });
  return { calls, load };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("KeyedBatcher", () => {
  it("runs a lone read at once, in its own statement", async () => {
    const { calls, load } = manualLoad();
    const batcher = new KeyedBatcher({ load, maxInFlight: 2, maxKeys: 100 });
    const read = batcher.run("t1", ["a"]);
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    expect(await read).toEqual(new Map([["a", "t1:a"]]));
  });

  it("merges the reads asked while the statements run into one statement, and each caller gets only its ids", async () => {
    const { calls, load } = manualLoad();
    const batcher = new KeyedBatcher({ load, maxInFlight: 2, maxKeys: 100 });
    const first = [batcher.run("t1", ["a"]), batcher.run("t1", ["b"])];
    const waiting = [batcher.run("t1", ["c"]), batcher.run("t1", ["d", "c"]), batcher.run("t1", ["e"])];
    expect(calls.map((c) => c.ids)).toEqual([["a"], ["b"]]);

    calls[0]!.finish();
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([["a"], ["b"], ["c", "d", "e"]]);
    calls[1]!.finish();
    calls[2]!.finish(new Map([["c", "t1:c"], ["e", "t1:e"]])); // d has no row
    expect(await Promise.all([...first, ...waiting])).toEqual([
      new Map([["a", "t1:a"]]),
      new Map([["b", "t1:b"]]),
      new Map([["c", "t1:c"]]),
      new Map([["c", "t1:c"]]),
      new Map([["e", "t1:e"]]),
    ]);
  });

  it("never answers a read from a statement that started before it was asked", async () => {
    const { calls, load } = manualLoad();
    const batcher = new KeyedBatcher({ load, maxInFlight: 1, maxKeys: 100 });
    const early = batcher.run("t1", ["a"]);
    const late = batcher.run("t1", ["a"]);
    expect(calls).toHaveLength(1);
    calls[0]!.finish(new Map([["a", "before"]]));
    expect(await early).toEqual(new Map([["a", "before"]]));
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.finish(new Map([["a", "after"]]));
    expect(await late).toEqual(new Map([["a", "after"]]));
  });

  it("gives each scope its own slots and statements, and splits batches at maxKeys", async () => {
    const { calls, load } = manualLoad();
    const batcher = new KeyedBatcher({ load, maxInFlight: 1, maxKeys: 3 });
    const blocker = batcher.run("t1", ["x"]);
    const reads = [batcher.run("t1", ["a", "b"]), batcher.run("t2", ["a"]), batcher.run("t1", ["c"]), batcher.run("t1", ["d"])];
    // t2 does not wait for t1's statement; t1's calls wait for theirs.
    expect(calls.map((c) => [c.scope, c.ids])).toEqual([
      ["t1", ["x"]],
      ["t2", ["a"]],
    ]);
    for (let i = 0; i < 4; i++) {
      calls[i]!.finish();
      await tick();
    }
    expect(calls.map((c) => [c.scope, c.ids])).toEqual([
      ["t1", ["x"]],
      ["t2", ["a"]],
      ["t1", ["a", "b", "c"]],
      ["t1", ["d"]],
    ]);
    await blocker;
    expect(await Promise.all(reads)).toEqual([
      new Map([["a", "t1:a"], ["b", "t1:b"]]),
      new Map([["a", "t2:a"]]),
      new Map([["c", "t1:c"]]),
      new Map([["d", "t1:d"]]),
    ]);
  });

  it("refuses distinctKeys with more than one statement in flight, and inputs that do not match the keys", async () => {
    const { load } = manualLoad();
    expect(() => new KeyedBatcher({ load, maxInFlight: 2, maxKeys: 10, distinctKeys: true })).toThrow(/maxInFlight 1/);
    const batcher = new KeyedBatcher<string, string>({ load, maxInFlight: 1, maxKeys: 10 });
    await expect(batcher.run("t1", ["a", "b"], ["only one"])).rejects.toThrow(/one input per key/);
  });

  it("with distinctKeys, puts a key already waiting in a later statement, and the later input wins", async () => {
    const calls: { keys: string[]; inputs: number[]; finish: () => void }[] = [];
    const store = new Map<string, number>();
    const batcher = new KeyedBatcher<number, number>({
      load: (_scope, keys, inputs) =>
        new Promise((resolve) => {
          calls.push({
            keys,
            inputs,
            finish: () => {
              keys.forEach((key, i) => store.set(key, inputs[i]!));
              resolve(new Map(keys.map((key) => [key, store.get(key)!])));
            },
          });
        }),
      maxInFlight: 1,
      maxKeys: 100,
      distinctKeys: true,
    });
    const blocker = batcher.run("t1", ["x"], [0]);
    const writes = [batcher.run("t1", ["a"], [1]), batcher.run("t1", ["b"], [2]), batcher.run("t1", ["a"], [3]), batcher.run("t1", ["c"], [4])];
    for (let i = 0; i < 3; i++) {
      calls[i]!.finish();
      await tick();
    }
    expect(calls.map((c) => [c.keys, c.inputs])).toEqual([
      [["x"], [0]],
      [["a", "b"], [1, 2]],
      [["a", "c"], [3, 4]],
    ]);
    await blocker;
    expect(await Promise.all(writes)).toEqual([new Map([["a", 1]]), new Map([["b", 2]]), new Map([["a", 3]]), new Map([["c", 4]])]);
    expect(store.get("a")).toBe(3);
  });

  it("rejects the calls of a statement whose load throws at once, and goes on", async () => {
    let first = true;
    const batcher = new KeyedBatcher<string>({
      load: (scope, ids) => {
        if (first) {
          first = false;
          throw new Error("bad statement");
        }
        return Promise.resolve(new Map(ids.map((id) => [id, `${scope}:${id}`])));
      },
      maxInFlight: 1,
      maxKeys: 10,
    });
    await expect(batcher.run("t1", ["a"])).rejects.toThrow("bad statement");
    expect(await batcher.run("t1", ["b"])).toEqual(new Map([["b", "t1:b"]]));
  });

  it("fails only the reads of the statement that failed", async () => {
    const { calls, load } = manualLoad();
    const batcher = new KeyedBatcher({ load, maxInFlight: 1, maxKeys: 100 });
    const failing = batcher.run("t1", ["a"]);
    const next = batcher.run("t1", ["b"]);
    calls[0]!.fail(new Error("database away"));
    await expect(failing).rejects.toThrow("database away");
    await tick();
    calls[1]!.finish();
    expect(await next).toEqual(new Map([["b", "t1:b"]]));
  });
});

/** Presence records on the test server's database, counting the statements that match. */
async function countedRecords(statement: RegExp) {
  const { server } = await startServer();
  const db = server.database;
  const counter = { statements: 0 };
  const counted: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
    query: (text: string, params?: unknown[], options?: { prepare?: string }) => {
      if (statement.test(text)) counter.statements++;
      return db.query(text, params, options);
    },
  });
  return { records: new SqlPresenceRecords(counted), counter };
}

describe("SqlPresenceRecords batching", () => {
  it("answer a burst of concurrent reads with few statements, each with its own user's record", async () => {
    const { records, counter } = await countedRecords(/^\s*select/i);
    const users = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    await Promise.all(users.map((user, i) => records.update("acme", user, { status: i % 2 === 0 ? "busy" : "online" })));

    const reads = await Promise.all(users.map((user) => records.get("acme", [user])));
    expect(reads.map((r, i) => r.get(users[i]!)?.status)).toEqual(users.map((_, i) => (i % 2 === 0 ? "busy" : "online")));
    // Two run at once; the other 58 wait for a free slot and share one statement.
    expect(counter.statements).toBeLessThanOrEqual(3);
  });

  it("stores the lastSeen of many users leaving together in few statements, keeping their other fields", async () => {
    const { records, counter } = await countedRecords(/^\s*insert/i);
    await records.update("acme", "leaver-0", { status: "busy", custom: { text: "in a meeting" } });
    counter.statements = 0;
    const users = Array.from({ length: 40 }, (_, i) => `leaver-${i}`);
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const written = await Promise.all(users.map((user, i) => records.update("acme", user, { lastSeen: at(i) })));
    // One runs at once; the other 39 wait for it and share one statement.
    expect(counter.statements).toBeLessThanOrEqual(2);
    expect(written.map((r) => r.lastSeen)).toEqual(users.map((_, i) => at(i)));
    expect(written[0]).toEqual({ status: "busy", custom: { text: "in a meeting" }, lastSeen: at(0) });
    expect(written[1]).toEqual({ status: "online", custom: null, lastSeen: at(1) });
    const read = await records.get("acme", ["leaver-0", "leaver-39"]);
    expect(read.get("leaver-0")?.lastSeen).toBe(at(0));
    expect(read.get("leaver-39")?.lastSeen).toBe(at(39));
  });
});

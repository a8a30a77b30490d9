import { describe, expect, it } from "vitest";
import { ReadBatcher } from "../src/drivers/sql/read-batcher.js";
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

describe("ReadBatcher", () => {
  it("runs a lone read at once, in its own statement", async () => {
    const { calls, load } = manualLoad();
    const batcher = new ReadBatcher({ load, maxInFlight: 2, maxIds: 100 });
    const read = batcher.get("t1", ["a"]);
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    expect(await read).toEqual(new Map([["a", "t1:a"]]));
  });

  it("merges the reads asked while the statements run into one statement, and each caller gets only its ids", async () => {
    const { calls, load } = manualLoad();
    const batcher = new ReadBatcher({ load, maxInFlight: 2, maxIds: 100 });
    const first = [batcher.get("t1", ["a"]), batcher.get("t1", ["b"])];
    const waiting = [batcher.get("t1", ["c"]), batcher.get("t1", ["d", "c"]), batcher.get("t1", ["e"])];
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
    const batcher = new ReadBatcher({ load, maxInFlight: 1, maxIds: 100 });
    const early = batcher.get("t1", ["a"]);
    const late = batcher.get("t1", ["a"]);
    expect(calls).toHaveLength(1);
    calls[0]!.finish(new Map([["a", "before"]]));
    expect(await early).toEqual(new Map([["a", "before"]]));
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.finish(new Map([["a", "after"]]));
    expect(await late).toEqual(new Map([["a", "after"]]));
  });

  it("keeps scopes apart and splits batches at maxIds", async () => {
    const { calls, load } = manualLoad();
    const batcher = new ReadBatcher({ load, maxInFlight: 1, maxIds: 3 });
    const blocker = batcher.get("t1", ["x"]);
    const reads = [batcher.get("t1", ["a", "b"]), batcher.get("t2", ["a"]), batcher.get("t1", ["c"]), batcher.get("t1", ["d"])];
    for (let i = 0; i < 4; i++) {
      calls[i]!.finish();
      await tick();
    }
    expect(calls.map((c) => [c.scope, c.ids])).toEqual([
      ["t1", ["x"]],
      ["t1", ["a", "b", "c"]],
      ["t2", ["a"]],
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

  it("fails only the reads of the statement that failed", async () => {
    const { calls, load } = manualLoad();
    const batcher = new ReadBatcher({ load, maxInFlight: 1, maxIds: 100 });
    const failing = batcher.get("t1", ["a"]);
    const next = batcher.get("t1", ["b"]);
    calls[0]!.fail(new Error("database away"));
    await expect(failing).rejects.toThrow("database away");
    await tick();
    calls[1]!.finish();
    expect(await next).toEqual(new Map([["b", "t1:b"]]));
  });
});

describe("SqlPresenceRecords reads", () => {
  it("answer a burst of concurrent reads with few statements, each seeing the writes made before it", async () => {
    const { server } = await startServer();
    const db = server.database;
    let selects = 0;
    const counted: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
      query: (text: string, params?: unknown[], options?: { prepare?: string }) => {
        if (/^\s*select/i.test(text)) selects++;
        return db.query(text, params, options);
      },
    });
    const records = new SqlPresenceRecords(counted);
    const users = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    await Promise.all(users.map((user, i) => records.update("acme", user, { status: i % 2 === 0 ? "busy" : "online" })));

    const reads = await Promise.all(users.map((user) => records.get("acme", [user])));
    expect(reads.map((r, i) => r.get(users[i]!)?.status)).toEqual(users.map((_, i) => (i % 2 === 0 ? "busy" : "online")));
    // Two run at once; the other 58 wait for a free slot and share one statement.
    expect(selects).toBeLessThanOrEqual(3);

    // A read asked while another is in flight still sees a write that completed before it was asked.
    const inFlight = records.get("acme", ["burst-0"]);
    await records.update("acme", "burst-0", { status: "online" });
    const after = await records.get("acme", ["burst-0"]);
    await inFlight;
    expect(after.get("burst-0")?.status).toBe("online");
  });
});

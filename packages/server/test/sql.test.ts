import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrate, MIGRATIONS } from "../src/drivers/sql/migrations.js";
import { openDatabase } from "../src/drivers/sql/open-database.js";
import { loadConfig } from "@switchboard/server";
import { databaseEnv, onCleanup, testDb } from "./support/server-harness.js";

async function open(env: Record<string, string> = databaseEnv()) {
  const db = await openDatabase(loadConfig(env).database);
  onCleanup(() => db.close());
  return db;
}

describe(`SQL driver (${testDb})`, () => {
  it("applies every migration once; a second run applies none", async () => {
    const db = await open();
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const { rows } = await db.query<{ version: number }>("select version from schema_migrations order by version");
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("a failing migration rolls back whole and is not recorded", async () => {
    const db = await open();
    await migrate(db);
    const broken = { version: 9999, name: "broken", sql: "create table half_done (id int); select * from no_such_table;" };
    await expect(migrate(db, [...MIGRATIONS, broken])).rejects.toThrow();
    const { rows } = await db.query("select 1 from schema_migrations where version = 9999");
    expect(rows).toEqual([]);
    await expect(db.query("select * from half_done")).rejects.toThrow();
  });

  it("a transaction that throws leaves nothing behind", async () => {
    const db = await open();
    await db.exec("create table t (v int)");
    await expect(
      db.transaction(async (tx) => {
        await tx.query("insert into t values ($1)", [1]);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await db.transaction(async (tx) => tx.query("insert into t values ($1)", [2]));
    expect((await db.query<{ v: number }>("select v from t")).rows).toEqual([{ v: 2 }]);
  });

  it.runIf(testDb === "postgres")("several nodes migrating at once run each migration exactly once", async () => {
    const env = databaseEnv();
    const dbs = await Promise.all([open(env), open(env), open(env)]);
    const applied = await Promise.all(dbs.map((db) => migrate(db)));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it.runIf(testDb === "pglite")("PGlite keeps data in DATA_DIR across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-pglite-"));
    const first = await openDatabase(loadConfig({ DATA_DIR: dir }).database);
    await migrate(first);
    await first.query("insert into nodes (node_id) values ('n1')");
    await first.close();
    const second = await open({ DATA_DIR: dir });
    expect(await migrate(second)).toEqual([]);
    expect((await second.query("select node_id from nodes")).rows).toEqual([{ node_id: "n1" }]);
  });
});

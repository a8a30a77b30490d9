import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { triggerSql } from "../src/cli/sql-trigger.js";
import { nextEvent, onCleanup, startServer, testDb } from "./support/server-harness.js";

/** A throwaway schema and notify channel in the test Postgres, acting as the app's own database. */
async function appDatabase() {
  const url = process.env.DATABASE_URL!;
  const schema = `app_${randomBytes(5).toString("hex")}`;
  const notifyChannel = `sb_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.query(`create table ${schema}.moods (id serial primary key, user_id text not null, score int not null, note text)`);
  await client.query(triggerSql({ table: `${schema}.moods`, event: "mood_update", channel: "'user:' || NEW.user_id", tenant: "acme", notifyChannel }));
  onCleanup(async () => {
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  });
  return { url, schema, notifyChannel, client };
}

describe.runIf(testDb === "postgres")("Postgres LISTEN/NOTIFY bridge", () => {
  it("an INSERT into a table with the generated trigger reaches that user's socket, and no one else's", async () => {
    const app = await appDatabase();
    const { connect } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    const other = await connect({ sub: "u43", tenant: "acme" });
    const twin = await connect({ sub: "u42", tenant: "globex" });
    const leaks: unknown[] = [];
    other.socket.on("mood_update", (d) => leaks.push(d));
    twin.socket.on("mood_update", (d) => leaks.push(d));

    const received = nextEvent<any>(alice.socket, "mood_update");
    const t0 = performance.now();
    await app.client.query(`insert into ${app.schema}.moods (user_id, score, note) values ('u42', 2, 'rough day')`);
    expect(await received).toMatchObject({ user_id: "u42", score: 2, note: "rough day" });
    const latencyMs = performance.now() - t0;
    expect(latencyMs).toBeLessThan(2000);
    // A row over NOTIFY's 8 KB limit travels as a reference and is read back.
    const big = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score, note) values ('u42', 4, $1)`, ["n".repeat(20_000)]);
    expect((await big).note).toHaveLength(20_000);
    expect(leaks).toEqual([]);
  });

  it("survives its connection being dropped (as on a Postgres restart) and listens again", async () => {
    const app = await appDatabase();
    const { connect, server } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    const bridge = server.eventsBridge!;
    const pid = await bridge.backendPid();
    expect(pid).toBeGreaterThan(0);
    await app.client.query("select pg_terminate_backend($1)", [pid]);
    // Wait until the bridge is listening on a new connection.
    for (let i = 0; i < 50 && (await bridge.backendPid().catch(() => undefined)) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await bridge.backendPid()).not.toBe(pid);
    const received = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 5)`);
    expect((await received).score).toBe(5);
  });

  it("malformed NOTIFY payloads are ignored and the bridge keeps working", async () => {
    const app = await appDatabase();
    const { connect } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    for (const payload of ["not json", "{}", JSON.stringify({ tenant: "acme", channel: "user:u42", event: "message:new", data: {} })]) {
      await app.client.query("select pg_notify($1, $2)", [app.notifyChannel, payload]);
    }
    const received = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 3)`);
    expect((await received).score).toBe(3);
  });

  it("the generated trigger function lives in the table's schema, so dropping the schema leaves nothing behind", async () => {
    const app = await appDatabase();
    const where = "select n.nspname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = 'switchboard_notify_' || $1";
    const name = `${app.schema}_moods_mood_update`;
    expect((await app.client.query(where, [name])).rows).toEqual([{ nspname: app.schema }]);
    await app.client.query(`drop schema ${app.schema} cascade`);
    await app.client.query(`create schema ${app.schema}`); // for the cleanup's drop
    expect((await app.client.query(where, [name])).rows).toEqual([]);
  });
});

describe("switchboard sql trigger", () => {
  it("refuses unsafe identifiers", () => {
    expect(() => triggerSql({ table: "moods; drop table x", event: "e", channel: "'user:1'", tenant: "acme" })).toThrow(/--table/);
    expect(() => triggerSql({ table: "moods", event: "e'x", channel: "'user:1'", tenant: "acme" })).toThrow(/--event/);
    expect(() => triggerSql({ table: "moods", event: "e", channel: "'user:1'", tenant: "ac'me" })).toThrow(/--tenant/);
    expect(() => triggerSql({ table: "moods", event: "e", channel: "'user:1'" })).toThrow(/--tenant/);
  });
});

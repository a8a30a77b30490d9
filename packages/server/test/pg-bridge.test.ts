import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { triggerSql } from "../src/cli/sql-trigger.js";
import { nextEvent, onCleanup, sleep, startServer, testDb } from "./support/server-harness.js";
import { redisUrl, twoNodes } from "./support/redis-helpers.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

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
    // The outbox row was taken: nothing is left to publish twice.
    expect((await app.client.query(`select count(*)::int as n from ${app.schema}.switchboard_event_outbox`)).rows[0].n).toBe(0);
  });

  it("a NOTIFY from any role cannot make the bridge read another table, nor an outbox row twice", async () => {
    const app = await appDatabase();
    await app.client.query(`create table ${app.schema}.staff_secrets (id int primary key, ssn text)`);
    await app.client.query(`insert into ${app.schema}.staff_secrets values (1, '123-45-6789')`);
    const { connect } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    const leaks: unknown[] = [];
    alice.socket.on("leak", (d) => leaks.push(d));
    alice.socket.on("mood_update", (d) => leaks.push(d));
    const forged = [
      { tenant: "acme", channel: "user:u42", event: "leak", ref: { table: `${app.schema}.staff_secrets`, id: 1 } },
      { outbox: { schema: app.schema, id: 1 } },
    ];
    for (const payload of forged) await app.client.query("select pg_notify($1, $2)", [app.notifyChannel, JSON.stringify(payload)]);
    // A large row's event, then the same outbox id again, forged after it went out.
    const big = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score, note) values ('u42', 1, $1)`, ["n".repeat(9000)]);
    expect((await big).score).toBe(1);
    const { rows } = await app.client.query(`select last_value::int as id from ${app.schema}.switchboard_event_outbox_id_seq`);
    await app.client.query("select pg_notify($1, $2)", [app.notifyChannel, JSON.stringify({ outbox: { schema: app.schema, id: rows[0].id } })]);
    // NOTIFYs of one connection arrive in order: once this row's event is in, the forged ones were handled.
    const last = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 2)`);
    expect((await last).score).toBe(2);
    await sleep(100);
    expect(leaks.map((d: any) => d.score)).toEqual([1, 2]);
  });

  it("a table keyed by another column sends its large rows, and the app's INSERT succeeds", async () => {
    const app = await appDatabase();
    await app.client.query(`create table ${app.schema}.journal (entry_id serial primary key, user_id text not null, body text not null)`);
    await app.client.query(triggerSql({ table: `${app.schema}.journal`, event: "journal_entry", channel: "'user:' || NEW.user_id", tenant: "acme", notifyChannel: app.notifyChannel }));
    const { connect } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    for (const size of [5, 10_000]) {
      const received = nextEvent<any>(alice.socket, "journal_entry");
      await app.client.query(`insert into ${app.schema}.journal (user_id, body) values ('u42', $1)`, ["j".repeat(size)]);
      expect((await received).body).toHaveLength(size);
    }
    expect((await app.client.query(`select count(*)::int as n from ${app.schema}.journal`)).rows[0].n).toBe(2);
  });

  it("a role that may insert rows but not write the outbox still sends its large rows", async () => {
    const app = await appDatabase();
    const role = `sb_writer_${app.schema}`;
    await app.client.query(`create role ${role}`);
    onCleanup(async () => {
      await app.client.query(`drop owned by ${role}`).catch(() => {});
      await app.client.query(`drop role if exists ${role}`).catch(() => {});
    });
    await app.client.query(`grant usage on schema ${app.schema} to ${role}`);
    await app.client.query(`grant insert on ${app.schema}.moods to ${role}`);
    await app.client.query(`grant usage on sequence ${app.schema}.moods_id_seq to ${role}`);
    const { connect } = await startServer({ env: { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    const received = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query("begin");
    await app.client.query(`set local role ${role}`);
    await app.client.query(`insert into ${app.schema}.moods (user_id, score, note) values ('u42', 3, $1)`, ["w".repeat(9000)]);
    await expect(app.client.query(`insert into ${app.schema}.switchboard_event_outbox (payload) values ('{}')`)).rejects.toThrow(/permission denied/);
    await app.client.query("rollback");
    // The rollback took the row back too; insert it again, committed.
    await app.client.query("begin");
    await app.client.query(`set local role ${role}`);
    await app.client.query(`insert into ${app.schema}.moods (user_id, score, note) values ('u42', 3, $1)`, ["w".repeat(9000)]);
    await app.client.query("commit");
    expect((await received).note).toHaveLength(9000);
  });

  it("starts while the app's database is unreachable, and listens once it can reach it", async () => {
    const app = await appDatabase();
    const target = new URL(app.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    onCleanup(() => proxy.close());
    await proxy.cut("refuse");
    const { connect, server } = await startServer({ env: { EVENTS_DATABASE_URL: proxy.url(app.url), EVENTS_CHANNELS: app.notifyChannel } });
    const alice = await connect({ sub: "u42", tenant: "acme" });
    expect(server.eventsBridge!.isListening).toBe(false);
    await proxy.restore();
    for (let i = 0; i < 100 && !server.eventsBridge!.isListening; i++) await sleep(50);
    expect(server.eventsBridge!.isListening).toBe(true);
    const received = nextEvent<any>(alice.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 4)`);
    expect((await received).score).toBe(4);
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

describe.runIf(testDb === "postgres" && redisUrl)("Postgres bridge on several nodes", () => {
  it("one node listens at a time, so each event arrives once on every node, and another takes over when it stops", async () => {
    const app = await appDatabase();
    const env = { EVENTS_DATABASE_URL: app.url, EVENTS_CHANNELS: app.notifyChannel };
    const { a, b } = await twoNodes(env);
    const onA = await a.connect({ sub: "u42", tenant: "acme" });
    const onB = await b.connect({ sub: "u42", tenant: "acme" });
    const got = { a: [] as number[], b: [] as number[] };
    onA.socket.on("mood_update", (d: any) => got.a.push(d.score));
    onB.socket.on("mood_update", (d: any) => got.b.push(d.score));
    for (let i = 0; i < 100 && !a.server.eventsBridge!.isListening && !b.server.eventsBridge!.isListening; i++) await sleep(50);
    expect([a.server.eventsBridge!.isListening, b.server.eventsBridge!.isListening].filter(Boolean)).toHaveLength(1);
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 1)`);
    for (let i = 0; i < 40 && (got.a.length === 0 || got.b.length === 0); i++) await sleep(50);
    await sleep(300);
    expect(got).toEqual({ a: [1], b: [1] });
    // The listening node stops: the other takes the lock (retried every 2 s) and delivers the next row.
    const [leader, other, otherSocket] = a.server.eventsBridge!.isListening ? [a, b, onB] : [b, a, onA];
    await leader.server.stop();
    for (let i = 0; i < 100 && !other.server.eventsBridge!.isListening; i++) await sleep(50);
    expect(other.server.eventsBridge!.isListening).toBe(true);
    const next = nextEvent<any>(otherSocket.socket, "mood_update");
    await app.client.query(`insert into ${app.schema}.moods (user_id, score) values ('u42', 2)`);
    expect((await next).score).toBe(2);
  });
});

describe("switchboard sql trigger", () => {
  it("refuses unsafe identifiers", () => {
    expect(() => triggerSql({ table: "moods; drop table x", event: "e", channel: "'user:1'", tenant: "acme" })).toThrow(/--table/);
    expect(() => triggerSql({ table: "moods", event: "e'x", channel: "'user:1'", tenant: "acme" })).toThrow(/--event/);
    expect(() => triggerSql({ table: "moods", event: "e", channel: "'user:1'", tenant: "ac'me" })).toThrow(/--tenant/);
    expect(() => triggerSql({ table: "moods", event: "e", channel: "'user:1'" })).toThrow(/--tenant/);
    // The bridge refuses these names: the trigger would never deliver a thing.
    expect(() => triggerSql({ table: "moods", event: "message:new", channel: "'user:1'", tenant: "acme" })).toThrow(/reserves/);
    expect(() => triggerSql({ table: "moods", event: "connected", channel: "'user:1'", tenant: "acme" })).toThrow(/reserves/);
  });
});

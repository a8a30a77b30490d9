import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Ack, IMMEDIATE, type Presence, getOne, nextChange } from "./support/presence-helpers.js";
import { collect, databaseEnv, request, sleep, startServer, testDb } from "./support/server-harness.js";

describe("online and offline across devices", () => {
  it("a user stays online while one of two devices is connected, and is offline with lastSeen once both leave", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    expect((await request<Ack>(alice.socket, "presence:subscribe", { userIds: ["bob"] })).data.presence).toEqual([
      { userId: "bob", status: "offline", lastSeen: null, custom: null },
    ]);
    const online = nextChange(alice.socket, "bob");
    const phone = await connect({ sub: "bob", tenant: "acme" });
    expect(await online).toEqual({ userId: "bob", status: "online", lastSeen: null, custom: null });
    const laptop = await connect({ sub: "bob", tenant: "acme" });

    const changes = collect<Presence>(alice.socket, "presence:changed");
    phone.socket.disconnect();
    await sleep(200);
    expect(changes).toEqual([]);
    expect((await getOne(alice.socket, "bob")).status).toBe("online");

    const before = Date.now();
    const offline = nextChange(alice.socket, "bob");
    laptop.socket.disconnect();
    const gone = await offline;
    expect(gone).toMatchObject({ userId: "bob", status: "offline", custom: null });
    expect(Date.parse(gone.lastSeen!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(gone.lastSeen!)).toBeLessThanOrEqual(Date.now());
    expect(await getOne(alice.socket, "bob")).toEqual(gone);
  });

  it("a second device connecting does not re-announce presence", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect<Presence>(alice.socket, "presence:changed");
    await connect({ sub: "bob", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    await sleep(200);
    expect(changes).toEqual([{ userId: "bob", status: "online", lastSeen: null, custom: null }]);
  });

  it("presence:get of a user never seen answers offline with lastSeen null, in the order asked", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const ack = await request<Ack>(alice.socket, "presence:get", { userIds: ["nobody", "alice", "nobody"] });
    expect(ack).toEqual({
      ok: true,
      data: {
        presence: [
          { userId: "nobody", status: "offline", lastSeen: null, custom: null },
          { userId: "alice", status: "online", lastSeen: null, custom: null },
        ],
      },
    });
  });

  it("a connection flapping within the grace is not announced; staying away longer than the grace is", async () => {
    const { connect } = await startServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "400", PRESENCE_IDLE_MS: "0" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect<Presence>(alice.socket, "presence:changed");

    bob.socket.disconnect();
    await sleep(50);
    const back = await connect({ sub: "bob", tenant: "acme" });
    await sleep(700);
    expect(changes).toEqual([]);
    expect((await getOne(alice.socket, "bob")).status).toBe("online");

    const leftAt = Date.now();
    back.socket.disconnect();
    await sleep(150);
    expect(changes).toEqual([]);
    expect((await getOne(alice.socket, "bob")).status).toBe("online");
    const offline = await nextChange(alice.socket, "bob");
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(350);
    expect(offline.status).toBe("offline");
    // lastSeen is when the device left, not when the grace ran out.
    expect(Date.parse(offline.lastSeen!)).toBeLessThan(leftAt + 200);
    expect(changes).toHaveLength(1);
  });

  it("presence:unsubscribe stops presence:changed", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const ack = await request<Ack>(alice.socket, "presence:unsubscribe", { userIds: ["bob"] });
    expect(ack).toEqual({ ok: true, data: { presence: [{ userId: "bob", status: "offline", lastSeen: null, custom: null }] } });
    const changes = collect(alice.socket, "presence:changed");
    await connect({ sub: "bob", tenant: "acme" });
    await sleep(200);
    expect(changes).toEqual([]);
  });
});

describe("automatic away and calls", () => {
  it("a user idle for PRESENCE_IDLE_MS turns away, and any request brings them back online", async () => {
    const { connect } = await startServer({ env: { PRESENCE_IDLE_MS: "300", PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const online = nextChange(alice.socket, "bob");
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await online;
    const start = Date.now();
    const away = await nextChange(alice.socket, "bob");
    expect(away.status).toBe("away");
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    const active = nextChange(alice.socket, "bob");
    await request(bob.socket, "room:participants", { room: "user:bob" });
    expect((await active).status).toBe("online");
  });

  it("a user with one active device is not turned away by another idle one", async () => {
    const { connect } = await startServer({ env: { PRESENCE_IDLE_MS: "300", PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const busyTab = await connect({ sub: "bob", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect<Presence>(alice.socket, "presence:changed");
    for (let i = 0; i < 9; i++) {
      await sleep(100);
      await request(busyTab.socket, "presence:get", { userIds: ["alice"] });
    }
    expect(changes).toEqual([]);
  });

  it("a chosen busy status is not replaced by away when idle", async () => {
    const { connect } = await startServer({ env: { PRESENCE_IDLE_MS: "200", PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "busy" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect<Presence>(alice.socket, "presence:changed");
    await sleep(600);
    expect(changes).toEqual([]);
    expect((await getOne(alice.socket, "bob")).status).toBe("busy");
  });

  it("in_call set by the call service reaches subscribers and wins over busy; clearing it restores busy", async () => {
    const { connect, server } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "busy" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const inCall = nextChange(alice.socket, "bob");
    await server.presence.setInCall("acme", "bob", true);
    expect((await inCall).status).toBe("in_call");
    const done = nextChange(alice.socket, "bob");
    await server.presence.setInCall("acme", "bob", false);
    expect((await done).status).toBe("busy");
  });
});

describe("durability and tenants", () => {
  it("lastSeen and the chosen status survive a server restart, also for users still connected at the stop", async () => {
    const env = testDb === "postgres" ? databaseEnv() : { DATA_DIR: await mkdtemp(join(tmpdir(), "switchboard-presence-")) };
    // A long grace: the user still connected at the stop is written by the stop itself, not by a timer.
    const settings = { ...env, PRESENCE_OFFLINE_GRACE_MS: "60000", PRESENCE_IDLE_MS: "0" };
    const first = await startServer({ env: settings });
    const bob = await first.connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "on leave", mood: { value: 2, label: "meh" } } });
    const carol = await first.connect({ sub: "carol", tenant: "acme" });
    const watcher = await first.connect({ sub: "alice", tenant: "acme" });
    await request(carol.socket, "presence:setStatus", { status: "offline" });
    const carolHidden = await getOne(watcher.socket, "carol");
    const stoppedAt = Date.now();
    await first.server.stop();

    const second = await startServer({ env: settings });
    const alice = await second.connect({ sub: "alice", tenant: "acme" });
    const [bobAfter, carolAfter] = (await request<Ack>(alice.socket, "presence:get", { userIds: ["bob", "carol"] })).data.presence;
    expect(bobAfter).toMatchObject({ userId: "bob", status: "offline", custom: { text: "on leave", mood: { value: 2, label: "meh" } } });
    expect(Math.abs(Date.parse(bobAfter.lastSeen) - stoppedAt)).toBeLessThan(5000);
    // Carol appeared offline: her lastSeen is when she hid, not when the server stopped.
    expect(carolAfter).toEqual(carolHidden);
    // Bob's chosen busy comes back with him.
    const back = await second.connect({ sub: "bob", tenant: "acme" });
    expect((await getOne(back.socket, "bob")).status).toBe("busy");
  });

  it("presence of another tenant is never visible: not by get, not by subscription", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect(alice.socket, "presence:changed");
    const globexBob = await connect({ sub: "bob", tenant: "globex" });
    await request(globexBob.socket, "presence:setStatus", { status: "busy", custom: { text: "globex only" } });
    globexBob.socket.disconnect();
    await sleep(200);
    expect(changes).toEqual([]);
    expect(await getOne(alice.socket, "bob")).toEqual({ userId: "bob", status: "offline", lastSeen: null, custom: null });
    // Joining the internal channel by name stays inside the caller's tenant too.
    await request(alice.socket, "room:join", { room: "presence:bob" });
    await connect({ sub: "bob", tenant: "globex" });
    await sleep(200);
    expect(changes).toEqual([]);
  });
});

describe("the presence: channel kind", () => {
  it("room:join presence:{user} is allowed in the tenant without asking the hook, and its members are never announced or listed", async () => {
    const asked: string[] = [];
    const { connect } = await startServer({ env: IMMEDIATE, hooks: [{ onAuthorizeChannel: ({ channel }) => void asked.push(channel) }] });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    expect(await request<Ack>(alice.socket, "room:join", { room: "presence:bob" })).toEqual({ ok: true, data: { room: "presence:bob" } });
    const joins = collect(alice.socket, "room:userJoined");
    await request(carol.socket, "room:join", { room: "presence:bob" });
    expect((await request<Ack>(alice.socket, "room:participants", { room: "presence:bob" })).error?.code).toBe("forbidden");
    const online = nextChange(alice.socket, "bob");
    await connect({ sub: "bob", tenant: "acme" });
    expect((await online).status).toBe("online");
    expect(joins).toEqual([]);
    expect(asked).toEqual([]);
    // The viewers: kind is only ever joined through presence:setActivity.
    expect((await request<Ack>(alice.socket, "room:join", { room: "viewers:patient:42" })).error?.code).toBe("forbidden");
  });
});

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { collect, databaseEnv, nextEvent, request, sleep, startServer, testDb } from "./support/server-harness.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string; details?: unknown } };
type Presence = { userId: string; status: string; lastSeen: string | null; custom: unknown };

/** No grace and no idle: departures are announced at once and nobody turns away by themselves. */
const IMMEDIATE = { PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" };

async function getOne(socket: Socket, userId: string): Promise<Presence> {
  const ack = await request<Ack>(socket, "presence:get", { userIds: [userId] });
  expect(ack.ok).toBe(true);
  return ack.data.presence[0];
}

/** Resolves with the next presence:changed about `userId`. */
function nextChange(socket: Socket, userId: string, ms = 3000): Promise<Presence> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off("presence:changed", onChange);
      reject(new Error(`no presence:changed for ${userId} within ${ms} ms`));
    }, ms);
    const onChange = (event: Presence) => {
      if (event.userId !== userId) return;
      clearTimeout(timer);
      socket.off("presence:changed", onChange);
      resolve(event);
    };
    socket.on("presence:changed", onChange);
  });
}

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

describe("chosen status and custom status", () => {
  it("status and custom status with mood reach subscribers, and presence:get agrees", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });

    const changed = nextChange(alice.socket, "bob");
    const ack = await request<Ack>(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "  In clinic  ", mood: { value: 4, label: "good" } } });
    const expected = { userId: "bob", status: "busy", lastSeen: null, custom: { text: "In clinic", mood: { value: 4, label: "good" } } };
    expect(ack).toEqual({ ok: true, data: { presence: expected } });
    expect(await changed).toEqual(expected);
    expect(await getOne(alice.socket, "bob")).toEqual(expected);

    // Omitting custom keeps it; online returns to the automatic status.
    const back = nextChange(alice.socket, "bob");
    await request(bob.socket, "presence:setStatus", { status: "online" });
    expect(await back).toEqual({ ...expected, status: "online" });
    // null clears it, and so does an object with neither field.
    const cleared = nextChange(alice.socket, "bob");
    await request(bob.socket, "presence:setStatus", { status: "away", custom: null });
    expect(await cleared).toEqual({ userId: "bob", status: "away", lastSeen: null, custom: null });
    await request(bob.socket, "presence:setStatus", { status: "away", custom: { mood: { value: 1, label: "tired" } } });
    const emptied = nextChange(alice.socket, "bob");
    await request(bob.socket, "presence:setStatus", { status: "away", custom: {} });
    expect((await emptied).custom).toBeNull();
  });

  it("setting the same status again announces nothing", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect<Presence>(alice.socket, "presence:changed");
    await request(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "focus" } });
    await request(bob.socket, "presence:setStatus", { status: "busy", custom: { text: "focus" } });
    await request(bob.socket, "presence:setStatus", { status: "busy" });
    await request(bob.socket, "presence:setStatus", { status: "online", custom: { text: "focus" } });
    await sleep(150);
    expect(changes.map((c) => c.status)).toEqual(["busy", "online"]);
  });

  it("appearing offline shows offline with a lastSeen to subscribers and presence:get while connected", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const hidden = nextChange(alice.socket, "bob");
    const ack = await request<Ack>(bob.socket, "presence:setStatus", { status: "offline" });
    const seen = await hidden;
    expect(seen).toMatchObject({ userId: "bob", status: "offline" });
    expect(seen.lastSeen).toEqual(expect.any(String));
    expect(ack.data.presence).toEqual(seen);
    expect(await getOne(alice.socket, "bob")).toEqual(seen);

    // Leaving while hidden reveals nothing: no event, lastSeen stays.
    const changes = collect<Presence>(alice.socket, "presence:changed");
    bob.socket.disconnect();
    await sleep(200);
    expect(changes).toEqual([]);
    expect(await getOne(alice.socket, "bob")).toEqual(seen);

    // The choice is kept: the next connection is hidden too until the user picks online.
    const again = await connect({ sub: "bob", tenant: "acme" });
    await sleep(100);
    expect(changes).toEqual([]);
    const visible = nextChange(alice.socket, "bob");
    await request(again.socket, "presence:setStatus", { status: "online" });
    expect((await visible).status).toBe("online");
  });

  it.each([
    ["in_call (only calls set it)", { status: "in_call" }, "status"],
    ["an unknown status", { status: "sleeping" }, "status"],
    ["no status", { custom: { text: "hi" } }, "status"],
    ["a mood value of 0", { status: "busy", custom: { mood: { value: 0, label: "x" } } }, "custom.mood.value"],
    ["a mood value of 6", { status: "busy", custom: { mood: { value: 6, label: "x" } } }, "custom.mood.value"],
    ["a fractional mood value", { status: "busy", custom: { mood: { value: 2.5, label: "x" } } }, "custom.mood.value"],
    ["a mood without label", { status: "busy", custom: { mood: { value: 3 } } }, "custom.mood.label"],
    ["a blank text", { status: "busy", custom: { text: "   " } }, "custom.text"],
    ["an over-long text", { status: "busy", custom: { text: "x".repeat(141) } }, "custom.text"],
    ["a custom status that is a string", { status: "busy", custom: "hi" }, "custom"],
  ])("presence:setStatus with %s is bad_request and changes nothing", async (_name, payload, path) => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "presence:setStatus", { status: "away", custom: { text: "lunch" } });
    await request(alice.socket, "presence:subscribe", { userIds: ["bob"] });
    const changes = collect(alice.socket, "presence:changed");
    const ack = await request<Ack>(bob.socket, "presence:setStatus", payload);
    expect(ack.ok).toBe(false);
    expect(ack.error?.code).toBe("bad_request");
    expect(ack.error?.details).toEqual([expect.objectContaining({ path })]);
    await sleep(100);
    expect(changes).toEqual([]);
    expect(await getOne(alice.socket, "bob")).toEqual({ userId: "bob", status: "away", lastSeen: null, custom: { text: "lunch" } });
  });

  it.each([
    ["presence:get", "an empty list", { userIds: [] }],
    ["presence:get", "a string instead of a list", { userIds: "bob" }],
    ["presence:get", "an id with a space", { userIds: ["bad id"] }],
    ["presence:get", "501 ids", { userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) }],
    ["presence:subscribe", "no userIds", {}],
    ["presence:subscribe", "a number as id", { userIds: [42] }],
    ["presence:unsubscribe", "an over-long id", { userIds: ["x".repeat(129)] }],
  ])("%s with %s is bad_request", async (event, _name, payload) => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    expect((await request<Ack>(alice.socket, event, payload)).error?.code).toBe("bad_request");
  });

  it("500 user ids is within the limit", async () => {
    const { connect } = await startServer({ env: IMMEDIATE });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const ack = await request<Ack>(alice.socket, "presence:subscribe", { userIds: Array.from({ length: 500 }, (_, i) => `u${i}`) });
    expect(ack.data.presence).toHaveLength(500);
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

import { describe, expect, it } from "vitest";
import { ConfigError, helpText, loadConfig } from "@switchboard/server";
import { type Ack, IMMEDIATE, type Presence, getOne, nextChange } from "./support/presence-helpers.js";
import { collect, request, sleep, startServer } from "./support/server-harness.js";

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
    ["a text with U+0000 (the store cannot hold it)", { status: "busy", custom: { text: "a\u0000b" } }, "custom.text"],
    ["a mood label with an unpaired surrogate", { status: "busy", custom: { mood: { value: 3, label: "\udc00" } } }, "custom.mood.label"],
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

describe("presence configuration", () => {
  it("defaults to 5 min idle and a 2 s offline grace; 0 turns each off; bad values are refused by name", () => {
    expect(loadConfig({}).presence).toEqual({ idleMs: 300_000, offlineGraceMs: 2000 });
    expect(loadConfig({ PRESENCE_IDLE_MS: "0", PRESENCE_OFFLINE_GRACE_MS: "0" }).presence).toEqual({ idleMs: 0, offlineGraceMs: 0 });
    let error: ConfigError | undefined;
    try {
      loadConfig({ PRESENCE_IDLE_MS: "-1", PRESENCE_OFFLINE_GRACE_MS: "soon" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.join("\n")).toMatch(/PRESENCE_IDLE_MS:[\s\S]*PRESENCE_OFFLINE_GRACE_MS:/);
    for (const name of ["PRESENCE_IDLE_MS", "PRESENCE_OFFLINE_GRACE_MS", "API_KEYS"]) expect(helpText()).toContain(name);
  });
});

import { describe, expect, it } from "vitest";
import type { SwitchboardHooks } from "@switchboard/server";
import { collect, nextEvent, request, sleep, startServer } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string } };
type Activity = { resource: string; userId: string; name: string; active: boolean };

/** The app's rule for its `patient:` records: providers only. */
const providersSeePatients: SwitchboardHooks = {
  onAuthorizeChannel: ({ caller, kind }) => (kind === "patient" ? caller.roles.includes("provider") : undefined),
};

async function start() {
  return startServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" }, hooks: [providersSeePatients] });
}

const provider = (sub: string, name: string, tenant = "acme") => ({ sub, name, tenant, roles: ["provider"] });

describe("record viewers", () => {
  it("other viewers get presence:activity when a user starts and stops viewing, and the list follows", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const wilson = await connect(provider("wilson", "Dr Wilson"));

    const first = await request<Ack>(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect(first.ok).toBe(true);
    expect(first.data.viewers).toEqual([{ userId: "house", name: "Dr House", since: expect.any(String) }]);
    const houseSince = first.data.viewers[0].since;

    const ownEvents = collect<Activity>(wilson.socket, "presence:activity");
    const joined = nextEvent<Activity>(house.socket, "presence:activity");
    const second = await request<Ack>(wilson.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect(await joined).toEqual({ resource: "patient:42", userId: "wilson", name: "Dr Wilson", active: true });
    expect(second.data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["house", "wilson"]);
    expect(second.data.viewers[0].since).toBe(houseSince);

    const listed = await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" });
    expect(listed.data.viewers).toEqual(second.data.viewers);

    const left = nextEvent<Activity>(house.socket, "presence:activity");
    const after = await request<Ack>(wilson.socket, "presence:setActivity", { resource: "patient:42", active: false });
    expect(await left).toEqual({ resource: "patient:42", userId: "wilson", name: "Dr Wilson", active: false });
    expect(after.data.viewers).toEqual([{ userId: "house", name: "Dr House", since: houseSince }]);
    // A viewer is not told about themselves.
    await sleep(100);
    expect(ownEvents).toEqual([]);
  });

  it("a viewer who disconnects is removed and the other viewers are told", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const wilson = await connect(provider("wilson", "Dr Wilson"));
    await request(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    await request(wilson.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const left = nextEvent<Activity>(house.socket, "presence:activity");
    wilson.socket.disconnect();
    expect(await left).toEqual({ resource: "patient:42", userId: "wilson", name: "Dr Wilson", active: false });
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" })).data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["house"]);
  });

  it("a second tab of the same viewer is not announced, and the user stays listed until the last tab stops", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const tab1 = await connect(provider("wilson", "Dr Wilson"));
    const tab2 = await connect(provider("wilson", "Dr Wilson"));
    await request(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const events = collect<Activity>(house.socket, "presence:activity");
    await request(tab1.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const both = await request<Ack>(tab2.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect(both.data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["house", "wilson"]);
    // Viewing twice from the same tab is harmless.
    await request(tab2.socket, "presence:setActivity", { resource: "patient:42", active: true });

    await request(tab1.socket, "presence:setActivity", { resource: "patient:42", active: false });
    await sleep(100);
    expect(events.map((e) => e.active)).toEqual([true]);
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" })).data.viewers).toHaveLength(2);

    const left = nextEvent<Activity>(house.socket, "presence:activity");
    tab2.socket.disconnect();
    expect((await left).active).toBe(false);
    expect(events.map((e) => e.active)).toEqual([true, false]);
  });

  it("viewers of different resources do not hear each other", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const wilson = await connect(provider("wilson", "Dr Wilson"));
    await request(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const events = collect(house.socket, "presence:activity");
    await request(wilson.socket, "presence:setActivity", { resource: "patient:43", active: true });
    await sleep(100);
    expect(events).toEqual([]);
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:43" })).data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["wilson"]);
  });

  it("viewing or listing a resource needs the right to join the channel of the same name", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const patient = await connect({ sub: "pat", tenant: "acme", roles: ["patient"] });
    await request(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const events = collect(house.socket, "presence:activity");
    for (const [event, payload] of [
      ["presence:setActivity", { resource: "patient:42", active: true }],
      ["presence:setActivity", { resource: "patient:42", active: false }],
      ["presence:viewers", { resource: "patient:42" }],
      ["presence:viewers", { resource: "user:house" }],
      ["presence:viewers", { resource: "viewers:patient:42" }],
    ] as const) {
      expect((await request<Ack>(patient.socket, event, payload)).error?.code, `${event} ${JSON.stringify(payload)}`).toBe("forbidden");
    }
    await sleep(100);
    expect(events).toEqual([]);
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" })).data.viewers).toHaveLength(1);
  });

  it("an app-defined resource is forbidden when no hook decides it", async () => {
    const { connect } = await startServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const house = await connect(provider("house", "Dr House"));
    expect((await request<Ack>(house.socket, "presence:setActivity", { resource: "patient:42", active: true })).error?.code).toBe("forbidden");
    // Built-in kinds follow their own rules.
    expect((await request<Ack>(house.socket, "presence:setActivity", { resource: "topic:handover", active: true })).ok).toBe(true);
  });

  it.each([
    ["presence:setActivity", "no active flag", { resource: "patient:42" }],
    ["presence:setActivity", "active as a string", { resource: "patient:42", active: "yes" }],
    ["presence:setActivity", "a resource without a kind", { resource: "42", active: true }],
    ["presence:setActivity", "an over-long resource", { resource: `patient:${"1".repeat(200)}`, active: true }],
    ["presence:viewers", "no resource", {}],
  ])("%s with %s is bad_request and changes nothing", async (event, _name, payload) => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const ack = await request<Ack>(house.socket, event, payload);
    expect(ack.error?.code).toBe("bad_request");
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" })).data.viewers).toEqual([]);
  });

  it("viewers of another tenant's record with the same name are never visible", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const other = await connect(provider("grey", "Dr Grey", "globex"));
    await request(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const events = collect(house.socket, "presence:activity");
    const ack = await request<Ack>(other.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect(ack.data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["grey"]);
    await sleep(100);
    expect(events).toEqual([]);
    expect((await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" })).data.viewers.map((v: { userId: string }) => v.userId)).toEqual(["house"]);
  });
});

describe("record viewers when access ends", () => {
  const ids = (ack: Ack) => ack.data.viewers.map((v: { userId: string }) => v.userId);

  it("a participant removed from a conversation, or who leaves it, stops viewing it on every device and learns no later viewer", async () => {
    const { connect } = await start();
    const alice = await connect({ sub: "alice", name: "Alice", tenant: "acme" });
    const bobTab1 = await connect({ sub: "bob", name: "Bob", tenant: "acme" });
    const bobTab2 = await connect({ sub: "bob", name: "Bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", name: "Carol", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob", "carol", "dan"]);
    const resource = `conversation:${id}`;
    await ok(alice.socket, "presence:setActivity", { resource, active: true });
    await ok(bobTab1.socket, "presence:setActivity", { resource, active: true });
    await ok(bobTab2.socket, "presence:setActivity", { resource, active: true });
    await ok(carol.socket, "presence:setActivity", { resource, active: true });
    const bobHears = collect<Activity>(bobTab1.socket, "presence:activity");

    const bobLeft = nextEvent<Activity>(alice.socket, "presence:activity");
    await ok(alice.socket, "conversation:removeParticipants", { conversationId: id, userIds: ["bob"] });
    expect(await bobLeft).toEqual({ resource, userId: "bob", name: "Bob", active: false });
    expect(ids(await request<Ack>(alice.socket, "presence:viewers", { resource }))).toEqual(["alice", "carol"]);

    const carolLeft = nextEvent<Activity>(alice.socket, "presence:activity");
    await ok(carol.socket, "conversation:leave", { conversationId: id });
    expect(await carolLeft).toEqual({ resource, userId: "carol", name: "Carol", active: false });
    expect(ids(await request<Ack>(alice.socket, "presence:viewers", { resource }))).toEqual(["alice"]);

    // Who opens the conversation now is none of Bob's business.
    const dan = await connect({ sub: "dan", name: "Dan", tenant: "acme" });
    await ok(dan.socket, "presence:setActivity", { resource, active: true });
    await sleep(150);
    expect(bobHears).toEqual([]);
  });

  it("a viewer whose access was withdrawn can still stop viewing, and learns nothing; one who was not viewing is refused", async () => {
    let allowed = true;
    const { connect } = await startServer({
      env: { PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" },
      hooks: [{ onAuthorizeChannel: ({ caller, kind }) => (kind === "patient" ? caller.userId === "house" || allowed : undefined) }],
    });
    const house = await connect(provider("house", "Dr House"));
    const wilson = await connect(provider("wilson", "Dr Wilson"));
    const cuddy = await connect(provider("cuddy", "Dr Cuddy"));
    await ok(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    await ok(wilson.socket, "presence:setActivity", { resource: "patient:42", active: true });
    allowed = false;
    const left = nextEvent<Activity>(house.socket, "presence:activity");
    expect(await ok(wilson.socket, "presence:setActivity", { resource: "patient:42", active: false })).toEqual({ viewers: [] });
    expect((await left).userId).toBe("wilson");
    expect(ids(await request<Ack>(house.socket, "presence:viewers", { resource: "patient:42" }))).toEqual(["house"]);
    expect(await fails(cuddy.socket, "presence:setActivity", { resource: "patient:42", active: false })).toBe("forbidden");
  });

  it("a user keeps their since and place while another of their tabs still views", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const tab1 = await connect(provider("wilson", "Dr Wilson"));
    const tab2 = await connect(provider("wilson", "Dr Wilson"));
    const first = await ok(tab1.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const since = first.viewers[0].since;
    await sleep(20);
    await ok(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    await sleep(20);
    await ok(tab2.socket, "presence:setActivity", { resource: "patient:42", active: true });
    const after = await ok(tab1.socket, "presence:setActivity", { resource: "patient:42", active: false });
    expect(after.viewers.map((v: { userId: string; since: string }) => [v.userId, v.userId === "wilson" ? v.since === since : true])).toEqual([
      ["wilson", true],
      ["house", true],
    ]);
  });

  it("the viewers channel cannot be left with room:leave: it follows presence:setActivity", async () => {
    const { connect } = await start();
    const house = await connect(provider("house", "Dr House"));
    const wilson = await connect(provider("wilson", "Dr Wilson"));
    await ok(house.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect(await fails(house.socket, "room:leave", { room: "viewers:patient:42" })).toBe("forbidden");
    const joined = nextEvent<Activity>(house.socket, "presence:activity");
    await ok(wilson.socket, "presence:setActivity", { resource: "patient:42", active: true });
    expect((await joined).userId).toBe("wilson");
  });
});

describe("record viewers: limits", () => {
  it("a connection views at most MAX_ROOMS_PER_CONNECTION records at once; stopping one makes room", async () => {
    const { connect } = await startServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0", MAX_ROOMS_PER_CONNECTION: "3" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    for (const n of [1, 2, 3]) await ok(alice.socket, "presence:setActivity", { resource: `topic:doc-${n}`, active: true });
    // Viewing one already viewed is not one more.
    await ok(alice.socket, "presence:setActivity", { resource: "topic:doc-3", active: true });
    expect(await fails(alice.socket, "presence:setActivity", { resource: "topic:doc-4", active: true })).toBe("forbidden");
    expect((await ok(alice.socket, "presence:viewers", { resource: "topic:doc-4" })).viewers).toEqual([]);
    await ok(alice.socket, "presence:setActivity", { resource: "topic:doc-1", active: false });
    expect((await ok(alice.socket, "presence:setActivity", { resource: "topic:doc-4", active: true })).viewers.map((v: { userId: string }) => v.userId)).toEqual(["alice"]);
  });
});

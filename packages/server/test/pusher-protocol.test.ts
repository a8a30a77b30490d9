import { createHmac } from "node:crypto";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { APP, channelEvent, collectChannel, eventually, pusherClient, rawPusher, startPusherServer, subscribe, within } from "./support/pusher-helpers.js";
import { sleep } from "./support/server-harness.js";
import { countUpgradeWrites } from "./support/socket-writes.js";

describe("Pusher connection (protocol 7)", () => {
  it("pusher-js connects and gets a digits.digits socket id; the raw handshake carries the activity timeout", async () => {
    const { port } = await startPusherServer();
    const client = await pusherClient(port);
    expect(client.connection.socket_id).toMatch(/^\d+\.\d+$/);
    const raw = await rawPusher(port);
    const established = await raw.next("pusher:connection_established");
    expect(established.data).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 120 });
  });

  it("the 101 response and pusher:connection_established leave the server in one write", async () => {
    const { port, server } = await startPusherServer();
    const writes = countUpgradeWrites(server.http.server);
    const raw = await rawPusher(port);
    await raw.next("pusher:connection_established");
    expect(writes.single + writes.vectored).toBe(1);
  });

  it("an unknown app key gets pusher:error 4001 and a 4001 close (clients do not reconnect)", async () => {
    const { port } = await startPusherServer();
    const raw = await rawPusher(port, "/app/no-such-key?protocol=7");
    expect((await raw.next("pusher:error")).data).toMatchObject({ code: 4001 });
    expect((await raw.closed).code).toBe(4001);
  });

  it("a missing protocol is 4008 and an unsupported one 4007", async () => {
    const { port } = await startPusherServer();
    expect((await (await rawPusher(port, `/app/${APP.key}`)).closed).code).toBe(4008);
    expect((await (await rawPusher(port, `/app/${APP.key}?protocol=2`)).closed).code).toBe(4007);
  });

  it("pusher:ping is answered with pusher:pong and a WebSocket ping with a pong frame", async () => {
    const { port } = await startPusherServer();
    const raw = await rawPusher(port);
    raw.send({ event: "pusher:ping", data: {} });
    expect((await raw.next("pusher:pong")).event).toBe("pusher:pong");
    const pong = within(2000, "pong frame", (done) => raw.ws.once("pong", (data) => done(data.toString())));
    raw.ws.ping("hello");
    expect(await pong).toBe("hello");
  });

  it("after activity_timeout of silence the server pings, and closes with 4201 when no pong comes", async () => {
    const { port } = await startPusherServer({ env: { PUSHER_ACTIVITY_TIMEOUT: "1" } });
    const answering = await rawPusher(port);
    const silent = await rawPusher(port);
    await silent.next("pusher:ping", 2500);
    await answering.next("pusher:ping", 2500);
    answering.send({ event: "pusher:pong", data: {} });
    const closed = await within<{ code: number }>(3000, "close", (done) => void silent.closed.then(done));
    expect(closed.code).toBe(4201);
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
  });

  it("a presence member whose network vanished (no pong, no close handshake) is removed right after the pong timeout, not 30 s later", async () => {
    const { port } = await startPusherServer({ env: { PUSHER_ACTIVITY_TIMEOUT: "1" } });
    const watcher = await pusherClient(port, { presence: { user_id: "watcher" } });
    const channel = await subscribe(watcher, "presence-topic.vanish");
    const ghost = await rawPusher(port);
    const { socket_id } = (await ghost.next("pusher:connection_established")).data as { socket_id: string };
    const channelData = JSON.stringify({ user_id: "ghost" });
    const auth = `${APP.key}:${createHmac("sha256", APP.secret).update(`${socket_id}:presence-topic.vanish:${channelData}`).digest("hex")}`;
    const added = channelEvent<{ id: string }>(channel, "pusher:member_added");
    ghost.send({ event: "pusher:subscribe", data: { channel: "presence-topic.vanish", auth, channel_data: channelData } });
    expect((await added).id).toBe("ghost");
    // Its network goes: from now on it reads nothing and answers nothing, not even the close frame.
    (ghost.ws as unknown as { _socket: Socket })._socket.pause();
    const removed = within<{ id: string }>(6000, "member_removed", (done) => channel.bind("pusher:member_removed", done));
    expect((await removed).id).toBe("ghost");
  });

  it("a WebSocket upgrade from an origin outside CORS_ORIGINS is refused with 403", async () => {
    const { port } = await startPusherServer({ env: { CORS_ORIGINS: "https://app.example.com" } });
    await expect(rawPusher(port, `/app/${APP.key}?protocol=7`, { origin: "https://evil.example" })).rejects.toMatchObject({ status: 403 });
    const allowed = await rawPusher(port, `/app/${APP.key}?protocol=7`, { origin: "https://app.example.com" });
    await allowed.next("pusher:connection_established");
  });

  it("on server stop clients get pusher:error 4200 and a 4200 close, so they reconnect at once", async () => {
    const { port, server } = await startPusherServer();
    const raw = await rawPusher(port);
    await raw.next("pusher:connection_established");
    await server.stop();
    expect((await raw.next("pusher:error")).data).toMatchObject({ code: 4200 });
    expect((await raw.closed).code).toBe(4200);
  });

  it("counts Pusher connections in /metrics and /healthz", async () => {
    const { port, url } = await startPusherServer();
    await pusherClient(port);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/switchboard_connections\{[^}]*protocol="pusher"[^}]*\} 1/);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ connections: 1 });
  });
});

describe("Pusher subscriptions", () => {
  it("pusher-js receives events from the official library's trigger and triggerBatch on public, private and presence channels", async () => {
    const { port, backend } = await startPusherServer();
    const client = await pusherClient(port, { presence: { user_id: "u1" } });
    const names = ["news", "topic.weather", "private-patient.42", "presence-visit.7"];
    const channels = await Promise.all(names.map((name) => subscribe(client, name)));
    const single = Promise.all(channels.map((channel) => channelEvent(channel, "update")));
    await backend.trigger(names, "update", { n: 1 });
    expect(await single).toEqual(names.map(() => ({ n: 1 })));
    const batch = Promise.all(channels.map((channel) => channelEvent(channel, "batched")));
    await backend.triggerBatch(names.map((channel, i) => ({ channel, name: "batched", data: { i } })));
    expect(await batch).toEqual(names.map((_, i) => ({ i })));
  });

  it("a private subscription with a bad signature gets pusher:subscription_error and no events", async () => {
    const { port } = await startPusherServer();
    const raw = await rawPusher(port);
    await raw.next("pusher:connection_established");
    raw.send({ event: "pusher:subscribe", data: { channel: "private-patient.42", auth: `${APP.key}:${"0".repeat(64)}` } });
    const refused = await raw.next("pusher:subscription_error");
    expect(refused).toMatchObject({ channel: "private-patient.42", data: { type: "AuthError", status: 401 } });
    raw.send({ event: "pusher:subscribe", data: { channel: "private-patient.42", auth: `${APP.key}:short` } });
    expect((await raw.next("pusher:subscription_error")).data.status).toBe(401);
    raw.send({ event: "pusher:subscribe", data: { channel: "private-patient.42" } });
    expect((await raw.next("pusher:subscription_error")).data.status).toBe(401);
  });

  it("pusher-js reports a subscription error for a presence signature over other channel_data", async () => {
    const { port, backend } = await startPusherServer();
    const client = await pusherClient(port, {
      channelAuthorization: {
        endpoint: "/unused",
        transport: "ajax",
        customHandler: ({ socketId, channelName }: { socketId: string; channelName: string }, callback: (e: Error | null, d: any) => void) => {
          const signed = backend.authorizeChannel(socketId, channelName, { user_id: "u1" });
          callback(null, { ...signed, channel_data: JSON.stringify({ user_id: "admin" }) });
        },
      },
    });
    await expect(subscribe(client, "presence-visit.7")).rejects.toMatchObject({ data: { type: "AuthError", status: 401 } });
  });

  it("names that are invalid, too long, or public with a dot are refused with pusher:subscription_error", async () => {
    const { port } = await startPusherServer();
    const raw = await rawPusher(port);
    for (const channel of ["patient.42", "a".repeat(200), "bad name", "#server-to-user-bob"]) {
      raw.send({ event: "pusher:subscribe", data: { channel } });
      expect((await raw.next("pusher:subscription_error")).channel).toBe(channel);
    }
  });

  it("subscribe data is accepted as an object or as a JSON string", async () => {
    const { port } = await startPusherServer();
    const raw = await rawPusher(port);
    raw.send({ event: "pusher:subscribe", data: { channel: "news" } });
    expect((await raw.next("pusher_internal:subscription_succeeded")).channel).toBe("news");
    raw.send({ event: "pusher:subscribe", data: JSON.stringify({ channel: "sports" }) });
    expect((await raw.next("pusher_internal:subscription_succeeded")).channel).toBe("sports");
    raw.send({ event: "pusher:subscribe", data: "not json" });
    expect((await raw.next("pusher:error")).data.message).toContain("pusher:subscribe");
  });

  it("presence: the member list on subscribe, member_added on a user's first join, member_removed on the last leave", async () => {
    const { port } = await startPusherServer();
    const alice = await pusherClient(port, { presence: { user_id: "alice", user_info: { name: "Alice" } } });
    const aliceChannel = await subscribe(alice, "presence-visit.7");
    const added = collectChannel<{ id: string; info: unknown }>(aliceChannel, "pusher:member_added");
    const removed = collectChannel<{ id: string }>(aliceChannel, "pusher:member_removed");

    const bob1 = await pusherClient(port, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
    const bobChannel = (await subscribe(bob1, "presence-visit.7")) as any;
    expect(bobChannel.members.count).toBe(2);
    expect(bobChannel.members.get("alice")).toEqual({ id: "alice", info: { name: "Alice" } });
    await eventually(() => expect(added).toEqual([{ id: "bob", info: { name: "Bob" } }]));

    const bob2 = await pusherClient(port, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
    await subscribe(bob2, "presence-visit.7");
    bob1.unsubscribe("presence-visit.7");
    await sleep(150);
    expect(added).toHaveLength(1);
    expect(removed).toEqual([]);
    bob2.disconnect();
    await eventually(() => expect(removed).toEqual([{ id: "bob", info: { name: "Bob" } }]));
  });

  it("a member whose user id is __proto__ is listed like any other: in ids, in hash and in the count", async () => {
    const { port, backend } = await startPusherServer();
    const joinRaw = async (userId: string) => {
      const raw = await rawPusher(port);
      const socketId = (await raw.next("pusher:connection_established")).data.socket_id;
      const { auth, channel_data } = backend.authorizeChannel(socketId, "presence-visit.9", { user_id: userId, user_info: { name: userId } });
      raw.send({ event: "pusher:subscribe", data: { channel: "presence-visit.9", auth, channel_data } });
      return (await raw.next("pusher_internal:subscription_succeeded")).data.presence;
    };
    await joinRaw("__proto__");
    const presence = await joinRaw("alice");
    expect([...presence.ids].sort()).toEqual(["__proto__", "alice"]);
    expect(Object.keys(presence.hash).sort()).toEqual(["__proto__", "alice"]);
    expect(presence.count).toBe(2);
  });

  it("pusher:signin with a user id outside section 3's rule (U+0000, a space) closes with 4009", async () => {
    const { port, backend } = await startPusherServer();
    for (const id of ["a\u0000b", "a b"]) {
      const raw = await rawPusher(port);
      const socketId = (await raw.next("pusher:connection_established")).data.socket_id;
      raw.send({ event: "pusher:signin", data: backend.authenticateUser(socketId, { id }) });
      expect((await raw.next("pusher:error")).data.code, id).toBe(4009);
      expect((await raw.closed).code).toBe(4009);
    }
  });

  it("pusher:signin lets the user's channel receive the official library's sendToUser; a bad signin closes with 4009", async () => {
    const { port, backend } = await startPusherServer();
    const client = await pusherClient(port, {
      userAuthentication: {
        endpoint: "/unused",
        transport: "ajax",
        customHandler: ({ socketId }: { socketId: string }, callback: (e: Error | null, d: any) => void) => callback(null, backend.authenticateUser(socketId, { id: "bob" })),
      },
    });
    client.signin();
    await within(3000, "signin", (done) => void (client.user as any).signinDonePromise.then(done));
    await eventually(() => expect((client.user as any).serverToUserChannel?.subscribed).toBe(true));
    const received = within(3000, "user event", (done) => client.user.bind("reminder", done));
    await backend.sendToUser("bob", "reminder", { at: "9:00" });
    expect(await received).toEqual({ at: "9:00" });

    const raw = await rawPusher(port);
    raw.send({ event: "pusher:signin", data: { auth: `${APP.key}:${"0".repeat(64)}`, user_data: JSON.stringify({ id: "eve" }) } });
    expect((await raw.next("pusher:error")).data.code).toBe(4009);
    expect((await raw.closed).code).toBe(4009);
  });
});

describe("Pusher client events", () => {
  async function twoClients() {
    const { port } = await startPusherServer();
    const a = await pusherClient(port, { presence: { user_id: "alice" } });
    const b = await pusherClient(port, { presence: { user_id: "bob" } });
    return { port, a, b };
  }

  it("a client event on a private or presence channel reaches the other pusher-js client, not the sender", async () => {
    const { a, b } = await twoClients();
    for (const name of ["private-chat.1", "presence-chat.1"]) {
      const mine = await subscribe(a, name);
      const theirs = await subscribe(b, name);
      const echoed = collectChannel(mine, "client-typing");
      const got = within<[unknown, any]>(3000, "client event", (done) => theirs.bind("client-typing", (data: unknown, meta: unknown) => done([data, meta])));
      expect(mine.trigger("client-typing", { who: "alice" })).toBe(true);
      const [data, meta] = await got;
      expect(data).toEqual({ who: "alice" });
      if (name.startsWith("presence-")) expect(meta).toEqual({ user_id: "alice" });
      await sleep(100);
      expect(echoed).toEqual([]);
    }
  });

  it("a client event on a public channel is refused with pusher:error and not delivered", async () => {
    const { port } = await startPusherServer();
    const listener = await pusherClient(port);
    const heard = collectChannel(await subscribe(listener, "news"), "client-hi");
    const raw = await rawPusher(port);
    raw.send({ event: "pusher:subscribe", data: { channel: "news" } });
    await raw.next("pusher_internal:subscription_succeeded");
    raw.send({ event: "client-hi", channel: "news", data: {} });
    expect((await raw.next("pusher:error")).data.message).toContain("private and presence");
    raw.send({ event: "client-hi", channel: "private-not-subscribed", data: {} });
    expect((await raw.next("pusher:error")).data.message).toContain("not subscribed");
    await sleep(100);
    expect(heard).toEqual([]);
  });

  it("the 11th client event within a second gets pusher:error 4301 and is dropped; the connection stays open", async () => {
    const { a, b } = await twoClients();
    const mine = await subscribe(a, "private-chat.1");
    const heard = collectChannel(await subscribe(b, "private-chat.1"), "client-burst");
    const errors: any[] = [];
    a.connection.bind("error", (err: any) => errors.push(err));
    for (let i = 0; i < 11; i++) mine.trigger("client-burst", { i });
    await eventually(() => expect(errors.map((e) => e.data?.code)).toEqual([4301]));
    await eventually(() => expect(heard).toHaveLength(10));
    expect(a.connection.state).toBe("connected");
  });

  it("client event data over 10 KB is refused", async () => {
    const { a, b } = await twoClients();
    const mine = await subscribe(a, "private-chat.1");
    const heard = collectChannel(await subscribe(b, "private-chat.1"), "client-big");
    const errors: any[] = [];
    a.connection.bind("error", (err: any) => errors.push(err));
    mine.trigger("client-big", { text: "x".repeat(11 * 1024) });
    await eventually(() => expect(errors[0]?.data?.message).toContain("10240 bytes"));
    expect(heard).toEqual([]);
  });
});

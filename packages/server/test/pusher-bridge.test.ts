import { describe, expect, it } from "vitest";
import { fails, ok } from "./support/chat-helpers.js";
import { APP, channelEvent, eventually, pusherClient, startPusherServer, subscribe, within, type PusherClient } from "./support/pusher-helpers.js";
import { collect, nextEvent, sleep } from "./support/server-harness.js";

describe("Socket.IO and Pusher clients on the same channels", () => {
  it("an event triggered with the official pusher library reaches Socket.IO members and pusher-js subscribers of the channel", async () => {
    const { port, backend, connect } = await startPusherServer();
    const sio = await connect({ sub: "alice", tenant: "acme" });
    await ok(sio.socket, "room:join", { room: "topic:news" });
    const outsider = await connect({ sub: "gina", tenant: "globex" });
    await ok(outsider.socket, "room:join", { room: "topic:news" });
    const leaked = collect(outsider.socket, "headline");
    const pusher = await pusherClient(port);
    const heardByPusher = channelEvent(await subscribe(pusher, "topic.news"), "headline");
    const heardBySocketIo = nextEvent(sio.socket, "headline");
    await backend.trigger("topic.news", "headline", { title: "Clinic opens" });
    expect(await heardByPusher).toEqual({ title: "Clinic opens" });
    expect(await heardBySocketIo).toEqual({ title: "Clinic opens" });
    await sleep(100);
    expect(leaked).toEqual([]);
  });

  it("data published through POST /v1/events reaches pusher-js as the value published, strings that read as JSON included", async () => {
    const key = "acme-key-0123456789abcdef";
    const { port, url } = await startPusherServer({ env: { API_KEYS: `${APP.tenantId}:${key}` } });
    const channel = await subscribe(await pusherClient(port), "topic.verbatim");
    for (const data of ["123", "true", '{"a":1}', "plain words", 123, { a: [1, "2"] }, null]) {
      const heard = channelEvent(channel, "verbatim");
      const res = await fetch(`${url}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ channel: "topic:verbatim", event: "verbatim", data }),
      });
      expect(res.status).toBe(202);
      expect(await heard).toEqual(data);
    }
  });

  it("a pusher-js client event reaches Socket.IO members of the channel under its client- name", async () => {
    const { port, connect } = await startPusherServer();
    const sio = await connect({ sub: "alice", tenant: "acme" });
    await ok(sio.socket, "room:join", { room: "topic:news" });
    const pusher = await pusherClient(port);
    const channel = await subscribe(pusher, "private-topic.news");
    const heard = nextEvent(sio.socket, "client-typing");
    channel.trigger("client-typing", { who: "pusher user" });
    expect(await heard).toEqual({ who: "pusher user" });
  });

  it("a chat message sent by a Socket.IO client reaches the recipient's signed-in pusher-js connection; sendToUser reaches their Socket.IO devices", async () => {
    const { port, backend, connect } = await startPusherServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bobSocket = await connect({ sub: "bob", tenant: "acme" });
    const bob = await signedIn(port, backend, "bob");
    const received = within<any>(3000, "message:new on pusher", (done) => bob.user.bind("message:new", done));
    const { conversation } = await ok(alice.socket, "conversation:create", { type: "direct", participantIds: ["bob"] });
    await ok(alice.socket, "message:send", { conversationId: conversation.id, body: "See you at 9" });
    expect((await received).message).toMatchObject({ senderId: "alice", body: "See you at 9", seq: 1 });

    const onSocketIo = nextEvent(bobSocket.socket, "reminder");
    const onPusher = within(3000, "reminder on pusher", (done) => bob.user.bind("reminder", done));
    await backend.sendToUser("bob", "reminder", { at: "9:00" });
    expect(await onSocketIo).toEqual({ at: "9:00" });
    expect(await onPusher).toEqual({ at: "9:00" });
  });

  it("a pusher-js connection signed in as a user is one of that user's devices: online to presence on every protocol while it is connected", async () => {
    const { port, backend, connect } = await startPusherServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0" } });
    const watcher = await connect({ sub: "wendy", tenant: "acme" });
    await ok(watcher.socket, "presence:subscribe", { userIds: ["paula"] });
    const online = nextEvent<{ userId: string; status: string }>(watcher.socket, "presence:changed");
    const paula = await signedIn(port, backend, "paula");
    expect(await online).toMatchObject({ userId: "paula", status: "online" });
    expect((await ok(watcher.socket, "presence:get", { userIds: ["paula"] })).presence[0].status).toBe("online");
    // A Socket.IO device of hers coming and going changes nothing while the Pusher one stays.
    const changes = collect(watcher.socket, "presence:changed");
    const phone = await connect({ sub: "paula", tenant: "acme" });
    phone.socket.disconnect();
    await sleep(300);
    expect(changes).toEqual([]);
    const offline = nextEvent<{ userId: string; status: string; lastSeen: string | null }>(watcher.socket, "presence:changed");
    paula.disconnect();
    expect(await offline).toMatchObject({ userId: "paula", status: "offline", lastSeen: expect.any(String) });
  });

  it("presence members are one list seen through both protocols", async () => {
    const { port, connect } = await startPusherServer();
    const alice = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    await ok(alice.socket, "room:join", { room: "topic:news" });

    const joinedSeenBySocketIo = nextEvent(alice.socket, "room:userJoined");
    const pusher = await pusherClient(port, { presence: { user_id: "u1", user_info: { name: "Una" } } });
    const channel = (await subscribe(pusher, "presence-topic.news")) as any;
    expect(channel.members.count).toBe(2);
    expect(channel.members.get("alice")).toEqual({ id: "alice", info: { name: "Alice" } });
    expect(await joinedSeenBySocketIo).toEqual({ room: "topic:news", userId: "u1", name: "Una", info: { name: "Una" } });
    const participants = await ok(alice.socket, "room:participants", { room: "topic:news" });
    expect(participants.participants).toEqual([
      { userId: "alice", name: "Alice" },
      { userId: "u1", name: "Una" },
    ]);

    const added = channelEvent<{ id: string; info: unknown }>(channel, "pusher:member_added");
    const bob = await connect({ sub: "bob", tenant: "acme", name: "Bob" });
    await ok(bob.socket, "room:join", { room: "topic:news" });
    expect(await added).toEqual({ id: "bob", info: { name: "Bob" } });
    const removed = channelEvent<{ id: string }>(channel, "pusher:member_removed");
    await ok(bob.socket, "room:leave", { room: "topic:news" });
    expect((await removed).id).toBe("bob");

    const leftSeenBySocketIo = nextEvent<{ userId: string }>(alice.socket, "room:userLeft");
    pusher.disconnect();
    expect((await leftSeenBySocketIo).userId).toBe("u1");
  });

  it("Socket.IO users may join public pusher: channels only, and get events triggered to them", async () => {
    const { backend, connect } = await startPusherServer();
    const sio = await connect({ sub: "alice", tenant: "acme" });
    await ok(sio.socket, "room:join", { room: "pusher:news" });
    expect(await fails(sio.socket, "room:join", { room: "pusher:private-chat" })).toBe("forbidden");
    expect(await fails(sio.socket, "room:join", { room: "pusher:presence-lobby" })).toBe("forbidden");
    const heard = nextEvent(sio.socket, "flash");
    await backend.trigger("news", "flash", "plain text");
    expect(await heard).toBe("plain text");
  });
});

describe("POST /pusher/auth (for apps without an auth endpoint)", () => {
  const hooks = [{ onAuthorizeChannel: ({ caller, kind }: { caller: { roles: readonly string[] }; kind: string }) => (kind === "patient" ? caller.roles.includes("provider") : undefined) }];

  async function clientWithJwt(port: number, url: string, token: string): Promise<PusherClient> {
    return pusherClient(port, { channelAuthorization: { endpoint: `${url}/pusher/auth`, transport: "ajax", headers: { Authorization: `Bearer ${token}` } } });
  }

  it("pusher-js subscribes with a Switchboard JWT when the channel rules allow it, and is refused when they do not", async () => {
    const { port, url, token } = await startPusherServer({ hooks });
    const provider = await clientWithJwt(port, url, await token({ sub: "dr", tenant: "acme", roles: ["provider"] }));
    await subscribe(provider, "private-patient.42");
    const presence = (await subscribe(provider, "presence-topic.news")) as any;
    expect(presence.members.me).toEqual({ id: "dr", info: { name: "dr" } });

    const patient = await clientWithJwt(port, url, await token({ sub: "pat", tenant: "acme", roles: ["patient"] }));
    await expect(subscribe(patient, "private-patient.42")).rejects.toMatchObject({ data: { status: 403 } });
    await expect(subscribe(patient, "private-user.dr")).rejects.toMatchObject({ data: { status: 403 } });
    await subscribe(patient, "private-user.pat");
  });

  it("answers like the pusher library's authorizeChannel, and refuses missing tokens, other tenants and public channels", async () => {
    const { url, token, backend } = await startPusherServer({ hooks });
    const post = async (body: Record<string, string>, jwt?: string) => {
      const res = await fetch(`${url}/pusher/auth`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...(jwt && { authorization: `Bearer ${jwt}` }) },
        body: new URLSearchParams(body).toString(),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const jwt = await token({ sub: "dr", tenant: "acme", roles: ["provider"], name: "Dr Who" });
    const signed = await post({ socket_id: "123.456", channel_name: "private-patient.42" }, jwt);
    // Signed for the user as well (channel_data), so evictions reach the subscription; pusher-js sends it back.
    expect(signed).toEqual({ status: 200, body: backend.authorizeChannel("123.456", "private-patient.42", { user_id: "dr" }) });
    const presence = await post({ socket_id: "123.456", channel_name: "presence-topic.news" }, jwt);
    expect(presence.body).toEqual(backend.authorizeChannel("123.456", "presence-topic.news", { user_id: "dr", user_info: { name: "Dr Who" } }));

    expect((await post({ socket_id: "123.456", channel_name: "private-patient.42" })).status).toBe(401);
    const otherTenant = await token({ sub: "gina", tenant: "globex", roles: ["provider"] });
    expect((await post({ socket_id: "123.456", channel_name: "private-patient.42" }, otherTenant)).status).toBe(403);
    expect((await post({ socket_id: "123.456", channel_name: "news" }, jwt)).status).toBe(400);
    expect((await post({ socket_id: "nope", channel_name: "private-patient.42" }, jwt)).status).toBe(400);
  });
});

async function signedIn(port: number, backend: { authenticateUser(socketId: string, user: { id: string }): unknown }, userId: string): Promise<PusherClient> {
  const client = await pusherClient(port, {
    userAuthentication: {
      endpoint: "/unused",
      transport: "ajax",
      customHandler: ({ socketId }: { socketId: string }, callback: (e: Error | null, d: any) => void) => callback(null, backend.authenticateUser(socketId, { id: userId })),
    },
  });
  client.signin();
  await eventually(() => expect((client.user as any).serverToUserChannel?.subscribed).toBe(true));
  return client;
}

import { createECDH, randomBytes } from "node:crypto";
import webpush from "web-push";
import { describe, expect, it } from "vitest";
import { collect, nextEvent, sleep, startServer } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";
import { startReceiver } from "./support/http-receiver.js";

/** The error code a server SDK call rejected with, or "ok". */
const code = (p: Promise<unknown>) => p.then(() => "ok", (err) => err.code as string);
const note = (userIds: string[], extra: Record<string, unknown> = {}) => ({ userIds, type: "appointment", title: "Visit at 9:00", body: "Room 3", ...extra });

describe("notifications", () => {
  it("a notification is stored and delivered live to every device, with the unread count", async () => {
    const { server, connect } = await startServer();
    const bob1 = await connect({ sub: "bob", tenant: "acme" });
    const bob2 = await connect({ sub: "bob", tenant: "acme" });
    const twin = await connect({ sub: "bob", tenant: "globex" });
    const leaked = collect(twin.socket, "notification:new");
    const live1 = nextEvent<any>(bob1.socket, "notification:new");
    const live2 = nextEvent<any>(bob2.socket, "notification:new");
    const count = nextEvent<any>(bob2.socket, "notification:unreadCount");
    const { created, notificationIds } = await server.notify("acme", note(["bob"], { priority: "high", data: { visitId: 9 } }));
    expect(created).toBe(1);
    const { notification } = await live1;
    expect(notification).toMatchObject({ id: notificationIds[0], userId: "bob", type: "appointment", title: "Visit at 9:00", body: "Room 3", priority: "high", data: { visitId: 9 } });
    expect((await live2).notification.id).toBe(notification.id);
    expect(await count).toEqual({ count: 1 });
    await sleep(100);
    expect(leaked).toEqual([]);
  });

  it("paging with before and beforeId loses none of several notifications created in the same millisecond", async () => {
    const { server, connect } = await startServer();
    for (let i = 0; i < 5; i++) await server.notify("acme", note(["dana"], { title: `s${i}` }));
    // As a burst leaves them: one creation time (a millisecond) for all five.
    await server.database.query("update notifications set created_at = '2026-12-06T10:00:00.123Z' where user_id = 'dana'");
    const dana = await connect({ sub: "dana", tenant: "acme" });
    const seen: string[] = [];
    let cursor: { before?: string; beforeId?: string } = {};
    for (let page = 0; page < 5; page++) {
      const { notifications, hasMore } = await ok(dana.socket, "notification:list", { limit: 2, ...cursor });
      seen.push(...notifications.map((n: any) => n.title));
      if (!hasMore) break;
      const last = notifications.at(-1);
      cursor = { before: last.createdAt, beforeId: last.id };
    }
    expect(seen.sort()).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect(await fails(dana.socket, "notification:list", { beforeId: "6f1c2b0e-6b1e-4a47-9d3e-1d0c6a7b8c9d" })).toBe("bad_request");
  });

  it("an offline user gets everything on return through list and count; read and readAll update every device", async () => {
    const { server, connect } = await startServer();
    for (let i = 0; i < 3; i++) await server.notify("acme", note(["carol"], { title: `n${i}` }));
    const carol1 = await connect({ sub: "carol", tenant: "acme" });
    const carol2 = await connect({ sub: "carol", tenant: "acme" });
    const { notifications, hasMore } = await ok(carol1.socket, "notification:list", {});
    expect(notifications.map((n: any) => n.title)).toEqual(["n2", "n1", "n0"]);
    expect(hasMore).toBe(false);
    expect(await ok(carol1.socket, "notification:getUnreadCount", {})).toEqual({ count: 3 });

    const page = await ok(carol1.socket, "notification:list", { limit: 2 });
    expect(page.hasMore).toBe(true);
    const rest = await ok(carol1.socket, "notification:list", { limit: 2, before: page.notifications[1].createdAt });
    expect(rest.notifications.map((n: any) => n.title)).toEqual(["n0"]);

    const otherDevice = nextEvent<any>(carol2.socket, "notification:unreadCount");
    expect(await ok(carol1.socket, "notification:read", { id: notifications[0].id })).toEqual({ unreadCount: 2 });
    expect(await otherDevice).toEqual({ count: 2 });
    expect((await ok(carol1.socket, "notification:list", { unreadOnly: true })).notifications).toHaveLength(2);
    const zero = nextEvent<any>(carol2.socket, "notification:unreadCount");
    expect(await ok(carol1.socket, "notification:readAll", {})).toEqual({ unreadCount: 0 });
    expect(await zero).toEqual({ count: 0 });
    expect(await fails(carol1.socket, "notification:read", { id: "00000000-0000-4000-8000-000000000000" })).toBe("not_found");
  });

  it("topic subscriptions are stored per user: they survive reconnects and reach offline subscribers", async () => {
    const { server, connect } = await startServer();
    const dave = await connect({ sub: "dave", tenant: "acme" });
    expect(await ok(dave.socket, "notification:subscribe", { topics: ["clinic-news", "outages"] })).toEqual({ topics: ["clinic-news", "outages"] });
    expect(await ok(dave.socket, "notification:unsubscribe", { topics: ["outages"] })).toEqual({ topics: ["clinic-news"] });
    dave.socket.disconnect();
    expect((await server.notify("acme", { topic: "clinic-news", type: "news", title: "New opening hours" })).created).toBe(1);
    expect((await server.notify("acme", { topic: "outages", type: "news", title: "Nobody hears this" })).created).toBe(0);
    const back = await connect({ sub: "dave", tenant: "acme" });
    const { notifications } = await ok(back.socket, "notification:list", {});
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ topic: "clinic-news", title: "New opening hours" });
  });

  it("a user subscribes to at most 1,000 topics: a request past that is forbidden and subscribes none of its topics", async () => {
    const { server, connect } = await startServer();
    const dave = await connect({ sub: "dave", tenant: "acme" });
    for (let batch = 0; batch < 10; batch++) {
      const topics = Array.from({ length: 100 }, (_, i) => `t${batch * 100 + i}`);
      expect((await ok(dave.socket, "notification:subscribe", { topics })).topics).toHaveLength((batch + 1) * 100);
    }
    // Topics held already are not counted twice; one new one is one too many.
    expect((await ok(dave.socket, "notification:subscribe", { topics: ["t0", "t999"] })).topics).toHaveLength(1000);
    expect(await fails(dave.socket, "notification:subscribe", { topics: ["t5", "fresh"] })).toBe("forbidden");
    expect((await server.notify("acme", { topic: "fresh", type: "news", title: "nobody subscribed" })).created).toBe(0);
    await ok(dave.socket, "notification:unsubscribe", { topics: ["t0"] });
    expect((await ok(dave.socket, "notification:subscribe", { topics: ["fresh"] })).topics).toHaveLength(1000);
  });

  it("notification:subscribe joins the connection to topic:{name}, so backend events there reach it; unsubscribe leaves it", async () => {
    const { server, connect } = await startServer();
    const dave = await connect({ sub: "dave", tenant: "acme" });
    const other = await connect({ sub: "erin", tenant: "acme" });
    await ok(dave.socket, "notification:subscribe", { topics: ["clinic-news", "outages"] });
    const news = nextEvent<{ headline: string }>(dave.socket, "headline");
    const atErin = collect(other.socket, "headline");
    await server.publish("acme", { channel: "topic:clinic-news", event: "headline", data: { headline: "open on Sunday" } });
    expect(await news).toEqual({ headline: "open on Sunday" });
    await ok(dave.socket, "notification:unsubscribe", { topics: ["outages"] });
    const atDave = collect(dave.socket, "headline");
    await server.publish("acme", { channel: "topic:outages", event: "headline", data: { headline: "down" } });
    await sleep(150);
    expect(atDave).toEqual([]);
    expect(atErin).toEqual([]);
  });

  it("expired notifications are neither listed nor counted", async () => {
    const { server, connect } = await startServer();
    await server.notify("acme", note(["erin"], { title: "soon gone", expiresAt: new Date(Date.now() + 600).toISOString() }));
    await server.notify("acme", note(["erin"], { title: "stays" }));
    await sleep(800);
    const erin = await connect({ sub: "erin", tenant: "acme" });
    expect((await ok(erin.socket, "notification:list", {})).notifications.map((n: any) => n.title)).toEqual(["stays"]);
    expect(await ok(erin.socket, "notification:getUnreadCount", {})).toEqual({ count: 1 });
  });

  it("bad notifications are refused with bad_request and nothing is stored", async () => {
    const { server, connect } = await startServer();
    for (const bad of [
      { type: "x", title: "no recipients" },
      { userIds: ["a"], topic: "t", type: "x", title: "both" },
      { userIds: ["a"], type: "x", title: "" },
      { userIds: ["a"], type: "x", title: "t", priority: "urgent" },
      { userIds: ["a"], type: "bad type", title: "t" },
      { userIds: ["a"], type: "x", title: "t", expiresAt: new Date(Date.now() - 1000).toISOString() },
    ]) {
      expect(await code(server.notify("acme", bad as any)), JSON.stringify(bad)).toBe("bad_request");
    }
    const a = await connect({ sub: "a", tenant: "acme" });
    expect(await ok(a.socket, "notification:getUnreadCount", {})).toEqual({ count: 0 });
  });

  it("a chat message to an offline participant raises one 'message' notification without the text", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    const id = await createGroup(alice.socket, ["bob", "carl"]);
    const carl = await connect({ sub: "carl", tenant: "acme" });
    await ok(alice.socket, "message:send", { conversationId: id, body: "my results came back" });
    await ok(alice.socket, "message:send", { conversationId: id, body: "second" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const { notifications } = await ok(bob.socket, "notification:list", {});
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ type: "message", title: "New message from Alice", body: "", data: { conversationId: id, senderId: "alice" } });
    expect(JSON.stringify(notifications[0])).not.toContain("results");
    expect((await ok(carl.socket, "notification:list", {})).notifications).toEqual([]);
  });

  it("reading a conversation to its end marks its 'message' notification read on every device; the next message while away raises a new one", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    const id = await createGroup(alice.socket, ["bob"]);
    const first = (await ok(alice.socket, "message:send", { conversationId: id, body: "one" })).message;
    const second = (await ok(alice.socket, "message:send", { conversationId: id, body: "two" })).message;
    const bob1 = await connect({ sub: "bob", tenant: "acme" });
    const bob2 = await connect({ sub: "bob", tenant: "acme" });
    expect(await ok(bob1.socket, "notification:getUnreadCount", {})).toEqual({ count: 1 });
    // Part of the conversation read: the notification still has something to announce.
    expect(await ok(bob1.socket, "message:read", { conversationId: id, upToSeq: first.seq })).toEqual({ unreadCount: 1 });
    expect(await ok(bob1.socket, "notification:getUnreadCount", {})).toEqual({ count: 1 });
    const announced = nextEvent<any>(bob2.socket, "notification:unreadCount");
    expect(await ok(bob1.socket, "message:read", { conversationId: id, upToSeq: second.seq })).toEqual({ unreadCount: 0 });
    expect(await announced).toEqual({ count: 0 });
    expect((await ok(bob2.socket, "notification:list", { unreadOnly: true })).notifications).toEqual([]);

    bob1.socket.disconnect();
    bob2.socket.disconnect();
    await sleep(100);
    await ok(alice.socket, "message:send", { conversationId: id, body: "three" });
    const back = await connect({ sub: "bob", tenant: "acme" });
    const { notifications } = await ok(back.socket, "notification:list", {});
    expect(notifications.map((n: any) => [n.type, n.data.conversationId, Boolean(n.readAt)])).toEqual([
      ["message", id, false],
      ["message", id, true],
    ]);
  });

  it("high and critical notifications go to Web Push only for users with no connection, without the body", async () => {
    const vapid = webpush.generateVAPIDKeys();
    const pushService = await startReceiver(() => 201);
    const { server, url, token, connect } = await startServer({
      env: { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: "mailto:ops@example.com" },
    });
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const subscription = { endpoint: `${pushService.url}/push/frank`, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") } };
    const res = await fetch(`${url}/v1/push-subscriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${await token({ sub: "frank", tenant: "acme" })}`, "content-type": "application/json" },
      body: JSON.stringify(subscription),
    });
    expect(res.status).toBe(201);

    const online = await connect({ sub: "frank", tenant: "acme" });
    await server.notify("acme", note(["frank"], { priority: "critical" }));
    await sleep(300);
    expect(pushService.received).toEqual([]);
    online.socket.disconnect();
    await sleep(100);
    await server.notify("acme", note(["frank"], { priority: "normal" }));
    await server.notify("acme", note(["frank"], { priority: "critical", title: "Call the clinic", body: "lab value 7.9" }));
    const [hit] = await pushService.waitFor(1);
    expect(hit!.path).toBe("/push/frank");
    expect(hit!.headers["content-encoding"]).toBe("aes128gcm");
    expect(String(hit!.headers.authorization)).toMatch(/^vapid t=/);
    expect(hit!.body).not.toContain("lab value");
    await sleep(200);
    expect(pushService.received).toHaveLength(1);
  });

  it("a device whose push service is unreachable costs only its own push: the user's other devices still get theirs", async () => {
    const vapid = webpush.generateVAPIDKeys();
    const pushService = await startReceiver(() => 201);
    const { server, url, token } = await startServer({
      env: { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: "mailto:ops@example.com" },
    });
    const frank = await token({ sub: "frank", tenant: "acme" });
    // Registered first, and first by endpoint: nothing listens on port 1.
    for (const endpoint of ["http://127.0.0.1:1/push/down", `${pushService.url}/push/up`]) {
      expect((await registerPush(url, frank, pushSubscription(endpoint))).status).toBe(201);
    }
    await server.notify("acme", note(["frank"], { priority: "high" }));
    const [hit] = await pushService.waitFor(1);
    expect(hit!.path).toBe("/push/up");
    await server.notify("acme", note(["frank"], { priority: "critical" }));
    await pushService.waitFor(2);
  });

  it("a push endpoint is the browser of whoever registered it last, in any tenant; DELETE forgets only the caller's own", async () => {
    const vapid = webpush.generateVAPIDKeys();
    const pushService = await startReceiver(() => 201);
    const { server, url, token } = await startServer({
      env: { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: "mailto:ops@example.com" },
    });
    const shared = pushSubscription(`${pushService.url}/push/shared-tablet`);
    const [frank, gina, hank] = await Promise.all([token({ sub: "frank", tenant: "acme" }), token({ sub: "gina", tenant: "acme" }), token({ sub: "hank", tenant: "globex" })]);
    const pushesAfter = async (tenant: string, userId: string) => {
      const before = pushService.received.length;
      await server.notify(tenant, note([userId], { priority: "high" }));
      await sleep(300);
      return pushService.received.length - before;
    };
    expect((await registerPush(url, frank, shared)).status).toBe(201);
    expect((await registerPush(url, gina, shared)).status).toBe(201);
    expect(await pushesAfter("acme", "frank")).toBe(0);
    expect(await pushesAfter("acme", "gina")).toBe(1);
    expect((await registerPush(url, hank, shared)).status).toBe(201);
    expect(await pushesAfter("acme", "gina")).toBe(0);
    expect(await pushesAfter("globex", "hank")).toBe(1);

    // Gina no longer holds it: her sign-out is answered alike and leaves Hank's alone.
    expect((await unregisterPush(url, gina, { endpoint: shared.endpoint })).status).toBe(204);
    expect(await pushesAfter("globex", "hank")).toBe(1);
    for (const bad of [{}, { endpoint: "" }, { endpoint: 42 }]) expect((await unregisterPush(url, hank, bad)).status, JSON.stringify(bad)).toBe(400);
    expect((await unregisterPush(url, hank, { endpoint: shared.endpoint })).status).toBe(204);
    expect(await pushesAfter("globex", "hank")).toBe(0);
  });

  it("a push subscription that could never be pushed to is 400 bad_request: an endpoint that is not https, keys that are not Web Push keys", async () => {
    const vapid = webpush.generateVAPIDKeys();
    const { url, token } = await startServer({ env: { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: "mailto:ops@example.com" } });
    const frank = await token({ sub: "frank", tenant: "acme" });
    const good = pushSubscription("https://push.example.com/send/abc");
    for (const bad of [
      { ...good, endpoint: "ftp://push.example.com/x" },
      { ...good, endpoint: "javascript:alert(1)" },
      { ...good, endpoint: "http://push.example.com/x" },
      { ...good, keys: { ...good.keys, p256dh: "abc" } },
      { ...good, keys: { ...good.keys, p256dh: randomBytes(65).toString("base64url") } },
      // 65 bytes that start as an uncompressed point should, but lie off the curve.
      { ...good, keys: { ...good.keys, p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url") } },
      { ...good, keys: { ...good.keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString("base64url") } },
      { ...good, keys: { ...good.keys, auth: randomBytes(8).toString("base64url") } },
      { ...good, keys: { ...good.keys, auth: "not base64!" } },
    ]) {
      const res = await registerPush(url, frank, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("bad_request");
    }
    expect((await registerPush(url, frank, good)).status).toBe(201);
  });

  it("notification text and data the store cannot hold as sent (U+0000, an unpaired surrogate) are bad_request and store nothing", async () => {
    const { server, connect } = await startServer();
    for (const bad of [note(["gina"], { title: "a\u0000b" }), note(["gina"], { body: "\ud800" }), note(["gina"], { data: { nested: ["x\u0000"] } }), note(["gina"], { data: { "k\u0000": 1 } })]) {
      expect(await code(server.notify("acme", bad as any)), JSON.stringify(bad)).toBe("bad_request");
    }
    const gina = await connect({ sub: "gina", tenant: "acme" });
    expect((await ok(gina.socket, "notification:list", {})).notifications).toEqual([]);
  });
});

/** A browser-like PushSubscription.toJSON() for `endpoint`, with real P-256 and auth keys. */
function pushSubscription(endpoint: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { endpoint, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") } };
}

function registerPush(url: string, token: string, subscription: unknown): Promise<Response> {
  return fetch(`${url}/v1/push-subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(subscription),
  });
}

function unregisterPush(url: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/push-subscriptions`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

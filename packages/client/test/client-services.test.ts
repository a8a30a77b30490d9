import { describe, expect, it } from "vitest";
import type { SwitchboardHooks } from "@switchboard/server";
import type { CallSignalEvent, Message, Notification, PresenceInfo } from "@switchboard/client";
import { sharedServer, sdkClient, until } from "./support/sdk.js";
import { onCleanup, sleep } from "../../server/test/support/server-harness.js";
import { Connection } from "../src/connection.js";
import { NotificationsService } from "../src/services/notifications.js";

const providersSeePatients: SwitchboardHooks = {
  onAuthorizeChannel: ({ caller, kind }) => (kind === "patient" ? caller.roles.includes("provider") : undefined),
};
const server = sharedServer({ env: { PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" }, hooks: [providersSeePatients] });

/** Two connected clients with fresh user ids. */
async function pair(tag: string, roles: string[] = []) {
  const [a, b] = [`${tag}-a`, `${tag}-b`];
  const [ca, cb] = await Promise.all([sdkClient(server(), { sub: a, name: a.toUpperCase(), roles }), sdkClient(server(), { sub: b, name: b.toUpperCase(), roles })]);
  await Promise.all([ca.ready(), cb.ready()]);
  return { a, b, ca, cb };
}

describe("client SDK services", () => {
  it("presence: a subscriber sees status changes; peek and get agree", async () => {
    const { a, ca, cb } = await pair("pres");
    const changes: PresenceInfo[] = [];
    cb.presence.on("change", (info) => info.userId === a && changes.push(info));
    const { presence, unsubscribe } = await cb.presence.subscribe([a]);
    expect(presence).toEqual([expect.objectContaining({ userId: a, status: "online" })]);
    await ca.presence.setStatus("busy", { text: "In clinic" });
    await until(() => changes.some((c) => c.status === "busy"), 5000, "busy");
    expect(cb.presence.peek(a)).toMatchObject({ status: "busy", custom: { text: "In clinic" } });
    expect(await cb.presence.get([a])).toEqual([expect.objectContaining({ status: "busy" })]);
    unsubscribe();
  });

  it("record viewers: watching lists both users, stopping removes one, a forbidden resource rejects", async () => {
    const { a, b, ca, cb } = await pair("view", ["provider"]);
    const first = await ca.presence.watchResource("patient:42");
    expect(first.viewers.map((v) => v.userId)).toEqual([a]);
    const second = await cb.presence.watchResource("patient:42");
    expect(second.viewers.map((v) => v.userId)).toEqual([a, b]);
    await until(() => ca.presence.viewersOf("patient:42")?.length === 2, 5000, "a to see b");
    second.stop();
    await until(() => ca.presence.viewersOf("patient:42")?.length === 1, 5000, "a to see b leave");
    first.stop();
    const outsider = await sdkClient(server(), { sub: "view-outsider" });
    await expect(outsider.presence.watchResource("patient:42")).rejects.toMatchObject({ code: "forbidden" });
  });

  it("notifications: the live feed gets new notifications and counts; markRead and markAllRead update both", async () => {
    const { a, ca } = await pair("notif");
    await ca.notifications.start();
    expect(ca.notifications.getSnapshot()).toMatchObject({ notifications: [], unreadCount: 0 });
    const { notificationIds } = await server().server.notify("default", { userIds: [a], type: "lab.result", title: "Lab result ready", priority: "high" });
    await server().server.notify("default", { userIds: [a], type: "lab.result", title: "Second" });
    await until(() => ca.notifications.getSnapshot().unreadCount === 2, 5000, "two unread");
    const titles = ca.notifications.getSnapshot().notifications.map((n: Notification) => n.title);
    expect(titles).toEqual(["Second", "Lab result ready"]);
    expect(await ca.notifications.markRead(notificationIds[0]!)).toBe(1);
    expect(ca.notifications.getSnapshot().notifications.find((n) => n.id === notificationIds[0])?.readAt).toBeDefined();
    await ca.notifications.markAllRead();
    expect(await ca.notifications.unreadCount()).toBe(0);
    await expect(ca.notifications.markRead("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({ code: "not_found" });
  });

  it("notifications: the feed marks read what was read elsewhere, a conversation read to its end included", async () => {
    const [a, b] = ["feedread-a", "feedread-b"];
    const ca = await sdkClient(server(), { sub: a, name: "A" });
    await ca.ready();
    const conversation = await ca.chat.createConversation({ type: "direct", participantIds: [b] });
    // B is away: the message raises a `message` notification; an app notification comes too.
    const sent = await ca.chat.send(conversation.id, "hello");
    await server().server.notify("default", { userIds: [b], type: "lab.result", title: "Lab result ready" });
    const cb = await sdkClient(server(), { sub: b, name: "B" });
    const other = await sdkClient(server(), { sub: b, name: "B" });
    await Promise.all([cb.ready(), other.ready()]);
    await cb.notifications.start();
    const unreadTypes = () => cb.notifications.getSnapshot().notifications.filter((n) => !n.readAt).map((n) => n.type);
    expect(unreadTypes()).toEqual(["lab.result", "message"]);

    // Read on B's other device: the feed here hears only the count, and re-reads which ones.
    await other.chat.markRead(conversation.id, sent.seq);
    await until(() => unreadTypes().length === 1, 5000, "the message notification to be read in the feed");
    expect(unreadTypes()).toEqual(["lab.result"]);
    expect(cb.notifications.getSnapshot().unreadCount).toBe(1);
    await other.notifications.markAllRead();
    await until(() => unreadTypes().length === 0, 5000, "every notification to be read in the feed");
    expect(cb.notifications.getSnapshot().unreadCount).toBe(0);
  });

  it("notifications: a notification that arrives while the feed's page is being read stays in the feed", async () => {
    const user = "feedrace-a";
    const connection = new Connection({ url: server().url, token: await server().token({ sub: user }) });
    onCleanup(async () => connection.close());
    await connection.whenConnected();
    // The first page's answer is held back 300 ms after the server read it: a notification created
    // meanwhile reaches the feed live, and is not on the page.
    const request = connection.request.bind(connection);
    connection.request = (async (event: string, payload: unknown) => {
      const answer = await request(event as never, payload as never);
      if (event === "notification:list") await sleep(300);
      return answer;
    }) as typeof connection.request;
    const feed = new NotificationsService(connection);
    const started = feed.start();
    await sleep(100);
    await server().server.notify("default", { userIds: [user], type: "lab.result", title: "During the read" });
    await started;
    expect(feed.getSnapshot().notifications.map((n) => n.title)).toEqual(["During the read"]);
    expect(feed.getSnapshot().unreadCount).toBe(1);
  });

  it("calls: initiate rings the callee, accept and signal relay, end reaches both", async () => {
    const { a, b, ca, cb } = await pair("call");
    const incoming = new Promise<string>((resolve) => cb.calls.on("call:incoming", ({ call }) => resolve(call.id)));
    const accepted = new Promise<string>((resolve) => ca.calls.on("call:accepted", ({ userId }) => resolve(userId)));
    const signal = new Promise<CallSignalEvent>((resolve) => cb.calls.on("call:signal", resolve));
    const ended = new Promise<string>((resolve) => cb.calls.on("call:ended", ({ reason }) => resolve(reason)));
    const call = await ca.calls.initiate([b], "audio");
    expect(call).toMatchObject({ callerId: a, calleeIds: [b], state: "ringing" });
    expect(await incoming).toBe(call.id);
    expect(await cb.calls.accept(call.id)).toMatchObject({ state: "active" });
    expect(await accepted).toBe(b);
    await ca.calls.signal(call.id, b, { type: "offer", sdp: "v=0 fake" });
    expect(await signal).toEqual({ callId: call.id, from: a, signal: { type: "offer", sdp: "v=0 fake" } });
    await ca.calls.end(call.id);
    expect(await ended).toBe("ended");
    await expect(cb.calls.accept(call.id)).rejects.toMatchObject({ code: "conflict" });
  });

  it("channels: on() joins and delivers app events; a refused join rejects; leaving stops delivery", async () => {
    const { ca } = await pair("chan", ["provider"]);
    const got: unknown[] = [];
    const stop = ca.channels.on("patient:7", "vitals:updated", (data) => got.push(data));
    await stop.joined;
    await server().server.publish("default", { channel: "patient:7", event: "vitals:updated", data: { hr: 72 } });
    await until(() => got.length === 1, 5000, "the event");
    expect(got).toEqual([{ hr: 72 }]);
    stop();
    await new Promise((r) => setTimeout(r, 100));
    await server().server.publish("default", { channel: "patient:7", event: "vitals:updated", data: { hr: 80 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(1);
    const outsider = await sdkClient(server(), { sub: "chan-outsider" });
    const refused = outsider.channels.on("patient:7", "vitals:updated", () => {});
    await expect(refused.joined).rejects.toMatchObject({ code: "forbidden" });
  });

  it("conversation view: history, live messages, typing users and read receipts", async () => {
    const { a, b, ca, cb } = await pair("view2");
    const conversation = await ca.chat.createConversation({ type: "group", participantIds: [b], title: "Team" });
    for (const body of ["m1", "m2", "m3"]) await ca.chat.send(conversation.id, body);
    const view = cb.chat.conversation(conversation.id);
    await view.load();
    expect(view.getSnapshot().messages.map((m: Message) => m.body)).toEqual(["m1", "m2", "m3"]);
    expect(view.getSnapshot().hasOlder).toBe(false);
    ca.chat.conversation(conversation.id).typing();
    await until(() => view.getSnapshot().typingUsers.some((t) => t.userId === a), 5000, "typing");
    await ca.chat.send(conversation.id, "m4");
    await until(() => view.getSnapshot().messages.length === 4, 5000, "m4");
    expect(view.getSnapshot().typingUsers).toEqual([]);
    const aView = ca.chat.conversation(conversation.id);
    await aView.load();
    const unread: [string, number][] = [];
    cb.chat.onUnreadChange((id, count) => unread.push([id, count]));
    expect(await view.markRead()).toEqual({ unreadCount: 0 });
    // This client's own read: the server tells only the user's other devices, so the SDK says it here.
    expect(unread).toEqual([[conversation.id, 0]]);
    await until(() => aView.getSnapshot().readUpTo[b] === 4, 5000, "the read receipt");
    // Reading implies delivery, though no message:delivered came for it.
    expect(aView.getSnapshot().deliveredUpTo[b]).toBe(4);
  });

  it("conversation view: a user typing for longer than any timeout stays shown until they stop", { timeout: 30_000 }, async () => {
    const { a, b, ca, cb } = await pair("longtype");
    const conversation = await ca.chat.createConversation({ type: "direct", participantIds: [b] });
    const view = cb.chat.conversation(conversation.id);
    await view.load();
    const typist = ca.chat.conversation(conversation.id);
    const keystrokes = setInterval(() => typist.typing(), 400);
    try {
      await until(() => view.getSnapshot().typingUsers.some((t) => t.userId === a), 5000, "typing");
      // Longer than the 8 s the view used to keep an indicator without a new typing:start (the server sends one only).
      await new Promise((resolve) => setTimeout(resolve, 9_000));
      expect(view.getSnapshot().typingUsers.map((t) => t.userId)).toEqual([a]);
    } finally {
      clearInterval(keystrokes);
    }
    typist.stopTyping();
    await until(() => view.getSnapshot().typingUsers.length === 0, 5000, "typing:stop");
  });

  it("presence: a second holder registers a subscription whose first holder's request failed", async () => {
    const { a, ca, cb } = await pair("holders");
    const changes: PresenceInfo[] = [];
    cb.presence.on("change", (info) => info.userId === a && changes.push(info));
    // Two components follow `a` at once; the first one's request fails (here for its other, invalid id;
    // under StrictMode, for the trial unmount's disconnect). The second must not count on it.
    const first = cb.presence.subscribe([a, "bad/id"]).then(
      () => "ok",
      (err: { code: string }) => err.code,
    );
    const second = await cb.presence.subscribe([a]);
    expect(await first).toBe("bad_request");
    expect(second.presence).toEqual([expect.objectContaining({ userId: a, status: "online" })]);
    await ca.presence.setStatus("busy");
    await until(() => changes.some((c) => c.status === "busy"), 5000, "the change after the failed first subscribe");
    second.unsubscribe();
  });

  it("close() rejects sends not yet stored instead of leaving them pending", async () => {
    const client = await sdkClient(server(), { sub: "closer" });
    await client.ready();
    client.disconnect();
    const queued = client.chat.send("6f1c2b0e-6b1e-4a47-9d3e-1d0c6a7b8c9d", "never sent");
    expect(client.chat.pending().map((p) => p.state)).toEqual(["queued"]);
    client.close();
    await expect(queued).rejects.toMatchObject({ code: "unavailable", details: { reason: "closed" } });
    await expect(client.chat.send("6f1c2b0e-6b1e-4a47-9d3e-1d0c6a7b8c9d", "after close")).rejects.toMatchObject({ code: "unavailable" });
    expect(client.chat.pending()).toEqual([]);
  });

  it("call session phases without media: outgoing and incoming, reject ends both, answering on another device stops the ringing here", async () => {
    const { b, ca, cb } = await pair("phase");
    await ca.callSession.start(b, "audio");
    expect(ca.callSession.getSnapshot()).toMatchObject({ phase: "outgoing", peerId: null });
    await until(() => cb.callSession.getSnapshot().phase === "incoming", 5000, "ringing");
    await cb.callSession.reject();
    expect(cb.callSession.getSnapshot()).toMatchObject({ phase: "ended", endReason: "rejected" });
    await until(() => ca.callSession.getSnapshot().phase === "ended", 5000, "caller sees the end");
    expect(ca.callSession.getSnapshot().endReason).toBe("rejected");

    // Bob on a second device: the first device answers, the second stops ringing.
    const bSecond = await sdkClient(server(), { sub: b });
    await bSecond.ready();
    ca.callSession.reset();
    cb.callSession.reset();
    const call = await ca.callSession.start(b, "audio");
    await until(() => bSecond.callSession.getSnapshot().phase === "incoming" && cb.callSession.getSnapshot().phase === "incoming", 5000, "both devices ringing");
    await cb.calls.accept(call.id);
    await until(() => bSecond.callSession.getSnapshot().phase === "ended", 5000, "the second device to stop ringing");
    expect(bSecond.callSession.getSnapshot().endReason).toBe("answered_elsewhere");
    await ca.callSession.end();
  });
});

import { describe, expect, it } from "vitest";
import type { Message } from "@switchboard/client";
import { onCleanup, sleep, startServer } from "../../server/test/support/server-harness.js";
import { Connection } from "../src/connection.js";
import { nextStatus, sdkClient, sharedServer, statuses, until } from "./support/sdk.js";
import { startProxy } from "./support/tcp-proxy.js";

const nowSec = () => Math.floor(Date.now() / 1000);
// Without connection state recovery, missed messages can only come back through the client's own seq resync.
const shared = sharedServer({ env: { RECOVERY_WINDOW_MS: "0" } });

describe("client SDK: token renewal", () => {
  it("asks getToken again when the handshake is refused with token_expired, then connects", async () => {
    const server = shared();
    const tokens = [await server.token({ sub: "exp-alice" }, nowSec() - 10), await server.token({ sub: "exp-alice" })];
    let calls = 0;
    const alice = await sdkClient(server, { sub: "exp-alice" }, { getToken: async () => tokens[Math.min(calls++, 1)]! });
    const errors: string[] = [];
    alice.onConnection("error", (e) => errors.push(e.code));
    await alice.ready();
    expect(calls).toBe(2);
    expect(errors).toEqual(["token_expired"]);
  });

  it("renews the token when the server cuts a live connection for an expired token, and resumes", async () => {
    const server = shared();
    let calls = 0;
    const alice = await sdkClient(server, { sub: "live-alice" }, { getToken: () => server.token({ sub: "live-alice" }, ++calls === 1 ? "2s" : "1h") });
    await alice.ready();
    const seen = statuses(alice);
    await until(() => seen.includes("reconnecting"), 5000, "the expired connection to be cut");
    await nextStatus(alice, "connected");
    expect(calls).toBe(2);
    expect(seen).toEqual(["connected", "reconnecting", "connected"]);
    // The renewed connection works.
    await expect(alice.chat.listConversations()).resolves.toEqual([]);
  });
});

describe("client SDK: reconnection", () => {
  it("waits for server:shutdown's reconnectInMs before reconnecting, then reaches the restarted server", { timeout: 60_000 }, async () => {
    const first = await startServer({ env: { SHUTDOWN_RECONNECT_MS: "600" } });
    const port = Number(new URL(first.url).port);
    const connection = new Connection({ url: first.url, token: await first.token({ sub: "shut-alice" }), reconnect: { initialDelayMs: 50 }});
    onCleanup(async () => connection.close());
    await connection.whenConnected();
    // Every (re)connection attempt goes through socket.connect(): record when.
    const attempts: number[] = [];
    const connect = connection.socket.connect.bind(connection.socket);
    connection.socket.connect = () => {
      attempts.push(Date.now());
      return connect();
    };
    let disconnectedAt = 0;
    connection.socket.on("disconnect", () => (disconnectedAt ||= Date.now()));
    const seen: string[] = [];
    connection.events.on("status", (status) => seen.push(status));
    await first.server.stop();
    await until(() => attempts.length > 0, 5000, "a reconnect attempt");
    // Without the announcement the first retry would come after at most 50 ms (the backoff here).
    expect(attempts[0]! - disconnectedAt).toBeGreaterThanOrEqual(600);
    await startServer({ env: { PORT: String(port) } });
    await until(() => connection.status === "connected", 20_000, "the reconnection");
    expect(seen[0]).toBe("reconnecting");
    expect(seen.at(-1)).toBe("connected");
  });

  it("retries with backoff while the server is unreachable, and reconnects when it is back", async () => {
    const server = shared();
    const proxy = await startProxy(server.url);
    const alice = await sdkClient(server, { sub: "proxy-alice" }, { url: proxy.url });
    await alice.ready();
    const seen = statuses(alice);
    proxy.cut();
    await nextStatus(alice, "reconnecting");
    await sleep(600);
    proxy.restore();
    await nextStatus(alice, "connected");
    expect(seen).toEqual(["connected", "reconnecting", "connected"]);
  });
});

/** Alice behind a TCP proxy (so she can be cut off) and Bob connected directly; both ready, alice's messages recorded. */
async function cutOffPair(tag: string) {
  const server = shared();
  const proxy = await startProxy(server.url);
  const alice = await sdkClient(server, { sub: `${tag}-alice` }, { url: proxy.url });
  const bob = await sdkClient(server, { sub: `${tag}-bob` });
  await Promise.all([alice.ready(), bob.ready()]);
  const aliceSees: Message[] = [];
  alice.chat.on("message:new", ({ message }) => aliceSees.push(message));
  return { proxy, alice, bob, aliceSees };
}

describe("client SDK: offline outbox and gapless history", () => {
  it("delivers messages sent while cut off exactly once after reconnect, and fills the gap with the others' messages in seq order", async () => {
    const { proxy, alice, bob, aliceSees } = await cutOffPair("gap");
    const conversation = await bob.chat.createConversation({ type: "direct", participantIds: ["gap-alice"] });
    await bob.chat.send(conversation.id, "before");
    await until(() => aliceSees.length === 1, 5000, "alice to see the first message");
    const bobSees: Message[] = [];
    bob.chat.on("message:new", ({ message }) => message.senderId === "gap-alice" && bobSees.push(message));
    const view = alice.chat.conversation(conversation.id);
    await view.load();
    expect(view.getSnapshot().messages.map((m) => m.body)).toEqual(["before"]);

    proxy.cut();
    await nextStatus(alice, "reconnecting");
    const offline = [alice.chat.send(conversation.id, "a1"), alice.chat.send(conversation.id, "a2")];
    expect(alice.chat.pending(conversation.id).map((p) => [p.body, p.state])).toEqual([
      ["a1", "queued"],
      ["a2", "queued"],
    ]);
    for (const body of ["b1", "b2", "b3"]) await bob.chat.send(conversation.id, body);
    // A conversation created while alice is away: its first message after her return arrives too.
    const group = await bob.chat.createConversation({ type: "group", participantIds: ["gap-alice"], title: "Group" });
    await sleep(300);
    proxy.restore();
    await nextStatus(alice, "connected");
    await bob.chat.send(group.id, "g1");

    const stored = await Promise.all(offline);
    expect(stored.map((m) => m.body)).toEqual(["a1", "a2"]);
    const inDirect = () => aliceSees.filter((m) => m.conversationId === conversation.id);
    await until(() => inDirect().length === 6, 5000, "alice to see six messages");
    await until(() => bobSees.length === 2, 5000, "bob to get alice's two messages");
    await sleep(300);

    expect(inDirect().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(inDirect().map((m) => m.body)).toEqual(["before", "b1", "b2", "b3", "a1", "a2"]);
    expect(bobSees.map((m) => m.body)).toEqual(["a1", "a2"]);
    const history = await bob.chat.history(conversation.id);
    expect(history.messages.map((m) => m.body)).toEqual(["before", "b1", "b2", "b3", "a1", "a2"]);
    expect(view.getSnapshot().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(view.getSnapshot().pending).toEqual([]);
    await until(() => aliceSees.some((m) => m.conversationId === group.id), 5000, "the group message");
    expect(aliceSees.filter((m) => m.conversationId === group.id).map((m) => m.body)).toEqual(["g1"]);
  });

  it("fetches messages missed while away right after reconnecting, with no new message to reveal the gap", async () => {
    const { proxy, alice, bob, aliceSees } = await cutOffPair("away");
    const quiet = await bob.chat.createConversation({ type: "group", participantIds: ["away-alice"], title: "Quiet" });
    const busy = await bob.chat.createConversation({ type: "group", participantIds: ["away-alice"], title: "Busy" });
    await bob.chat.send(quiet.id, "q1");
    await bob.chat.send(busy.id, "b1");
    await until(() => aliceSees.length === 2, 5000, "the first two messages");
    proxy.cut();
    await nextStatus(alice, "reconnecting");
    for (const body of ["b2", "b3", "b4"]) await bob.chat.send(busy.id, body);
    proxy.restore();
    await until(() => aliceSees.length === 5, 5000, "the missed messages");
    await sleep(200);
    expect(aliceSees.map((m) => m.body)).toEqual(["q1", "b1", "b2", "b3", "b4"]);
  });

  it("messages of a conversation created while away arrive after reconnecting, from its first", async () => {
    const { proxy, alice, bob, aliceSees } = await cutOffPair("created");
    proxy.cut();
    await nextStatus(alice, "reconnecting");
    const group = await bob.chat.createConversation({ type: "group", participantIds: ["created-alice"], title: "New" });
    for (const body of ["n1", "n2", "n3"]) await bob.chat.send(group.id, body);
    proxy.restore();
    await until(() => aliceSees.length === 3, 5000, "the new conversation's messages");
    await sleep(200);
    expect(aliceSees.map((m) => m.body)).toEqual(["n1", "n2", "n3"]);
  });

  it("an app that lists conversations as soon as it is back still gets every message of one created while away", async () => {
    const { proxy, alice, bob, aliceSees } = await cutOffPair("listed");
    proxy.cut();
    await nextStatus(alice, "reconnecting");
    const group = await bob.chat.createConversation({ type: "group", participantIds: ["listed-alice"], title: "New" });
    for (const body of ["n1", "n2"]) await bob.chat.send(group.id, body);
    const listed = new Promise((resolve) => alice.onStatus((status) => status === "connected" && resolve(alice.chat.listConversations())));
    proxy.restore();
    await listed;
    await until(() => aliceSees.length === 2, 5000, "the new conversation's messages");
    await sleep(200);
    expect(aliceSees.map((m) => m.body)).toEqual(["n1", "n2"]);
  });

  it("a message sent and deleted while away is not announced as new; a view shows its tombstone in its place", async () => {
    const { proxy, alice, bob, aliceSees } = await cutOffPair("gone");
    const conversation = await bob.chat.createConversation({ type: "direct", participantIds: ["gone-alice"] });
    await bob.chat.send(conversation.id, "before");
    await until(() => aliceSees.length === 1, 5000, "the first message");
    const view = alice.chat.conversation(conversation.id);
    await view.load();
    proxy.cut();
    await nextStatus(alice, "reconnecting");
    const gone = await bob.chat.send(conversation.id, "sent in error");
    await bob.chat.delete(gone.id);
    await bob.chat.send(conversation.id, "after");
    proxy.restore();
    await until(() => aliceSees.some((m) => m.body === "after"), 5000, "the message after");
    await sleep(200);
    expect(aliceSees.map((m) => m.body)).toEqual(["before", "after"]);
    await until(() => view.getSnapshot().messages.length === 3, 5000, "the view to catch up");
    expect(view.getSnapshot().messages.map((m) => [m.seq, m.body, Boolean(m.deletedAt)])).toEqual([
      [1, "before", false],
      [2, "", true],
      [3, "after", false],
    ]);
  });

  it("a send whose ack is lost is retried with the same clientMessageId and stored once", async () => {
    const { proxy, alice, bob } = await cutOffPair("ack");
    const conversation = await bob.chat.createConversation({ type: "direct", participantIds: ["ack-alice"] });
    const bobSees: Message[] = [];
    bob.chat.on("message:new", ({ message }) => bobSees.push(message));
    // Cut the connection the moment bob sees the message: it was stored, but alice's ack is (most likely) lost.
    bob.chat.on("message:new", () => proxy.cut());
    const sent = alice.chat.send(conversation.id, "only once");
    await until(() => bobSees.length === 1, 5000, "bob to get the message");
    proxy.restore();
    const message = await sent;
    expect(message.seq).toBe(1);
    await sleep(300);
    expect(bobSees).toHaveLength(1);
    expect((await bob.chat.history(conversation.id)).messages.map((m) => m.body)).toEqual(["only once"]);
  });

  it("a conversation view, the notification feed and a channel opened before the first connection load (join) once it comes", async () => {
    const server = shared();
    const bob = await sdkClient(server, { sub: "late-bob" });
    const conversation = await bob.chat.createConversation({ type: "direct", participantIds: ["late-alice"] });
    await bob.chat.send(conversation.id, "waiting for you");
    await server.server.notify("default", { userIds: ["late-alice"], type: "x", title: "Welcome" });
    const proxy = await startProxy(server.url);
    proxy.cut();
    const alice = await sdkClient(server, { sub: "late-alice" }, { url: proxy.url, requestTimeoutMs: 300 });
    const view = alice.chat.conversation(conversation.id);
    await view.load();
    expect(view.getSnapshot().error).toMatchObject({ code: "unavailable" });
    await alice.notifications.start();
    const news: unknown[] = [];
    const listening = alice.channels.on("topic:late-news", "news:posted", (data) => news.push(data));
    await expect(listening.joined).rejects.toMatchObject({ code: "unavailable" });
    proxy.restore();
    await until(() => view.getSnapshot().messages.length === 1, 5000, "the view to load");
    // Bob's message left alice (offline) a "new message" notification too.
    await until(() => alice.notifications.getSnapshot().unreadCount === 2, 5000, "the feed to load");
    expect(alice.notifications.getSnapshot().notifications.map((n) => n.title).sort()).toEqual(["New message from late-bob", "Welcome"]);
    // The channel wanted before the connection was joined once it came.
    await until(async () => {
      await server.server.publish("default", { channel: "topic:late-news", event: "news:posted", data: { n: 1 } });
      await sleep(100);
      return news.length > 0;
    }, 5000, "the channel event");
  });
});

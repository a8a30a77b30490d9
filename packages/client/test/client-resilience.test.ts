import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import type { Message } from "@switchboard/client";
import { sleep, startServer } from "../../server/test/support/server-harness.js";
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
    const alice = await sdkClient(first, { sub: "shut-alice" });
    await alice.ready();
    const seen = statuses(alice);
    const stoppedAt = Date.now();
    await first.server.stop();
    // Hold the port with a listener that records reconnect attempts and refuses them.
    const attempts: number[] = [];
    const holder = createServer((socket) => {
      attempts.push(Date.now() - stoppedAt);
      socket.destroy();
    });
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    await until(() => attempts.length > 0, 5000, "a reconnect attempt");
    await new Promise((resolve) => holder.close(resolve));
    // Without the announcement the first retry would come after about 50 ms (the test backoff).
    expect(attempts[0]).toBeGreaterThanOrEqual(550);
    await startServer({ env: { PORT: String(port) } });
    await nextStatus(alice, "connected", 20_000);
    expect(seen[0]).toBe("connected");
    expect(seen.at(-1)).toBe("connected");
    expect(seen.slice(1, -1).every((s) => s === "reconnecting")).toBe(true);
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
});

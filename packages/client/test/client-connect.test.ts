import { describe, expect, it } from "vitest";
import { SwitchboardError, type Message } from "@switchboard/client";
import { startServer } from "../../server/test/support/server-harness.js";
import { nextStatus, sdkClient, sharedServer, statuses, until } from "./support/sdk.js";

const shared = sharedServer();

describe("client SDK: connecting and requests", () => {
  it("goes connecting -> connected, exposes the session, and ends offline on disconnect", async () => {
    const server = shared();
    const alice = await sdkClient(server, { sub: "status-alice", tenant: "acme" });
    const seen = statuses(alice);
    await alice.ready();
    expect(alice.session).toMatchObject({ userId: "status-alice", tenantId: "acme" });
    alice.disconnect();
    expect(seen).toEqual(["connecting", "connected", "offline"]);
    await expect(alice.chat.listConversations()).rejects.toMatchObject({ code: "unavailable" });
  });

  it("rejects failed requests with a SwitchboardError carrying the protocol code and details", async () => {
    const server = shared();
    const alice = await sdkClient(server, { sub: "err-alice" });
    const bad = await alice.chat.send("00000000-0000-4000-8000-000000000000", "   ").catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SwitchboardError);
    expect(bad).toMatchObject({ code: "bad_request" });
    expect((bad as SwitchboardError).details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.anything() })]));
    const missing = await alice.chat.getConversation("00000000-0000-4000-8000-000000000000").catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: "SwitchboardError", code: "not_found" });
  });

  it("sends a chat message that the other participant receives once, in order", async () => {
    const server = shared();
    const alice = await sdkClient(server, { sub: "chat-alice" });
    const bob = await sdkClient(server, { sub: "chat-bob" });
    await Promise.all([alice.ready(), bob.ready()]);
    const received: Message[] = [];
    bob.chat.on("message:new", ({ message }) => received.push(message));
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["chat-bob"] });
    const sent = await Promise.all([alice.chat.send(conversation.id, "one"), alice.chat.send(conversation.id, "two"), alice.chat.send(conversation.id, "three")]);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3]);
    await until(() => received.length === 3, 5000, "three messages");
    expect(received.map((m) => m.body)).toEqual(["one", "two", "three"]);
  });

  it("refuses a fixed expired token for good: status offline, error token_expired", async () => {
    const server = shared();
    const errors: SwitchboardError[] = [];
    const alice = await sdkClient(server, { sub: "fixed-alice" }, { token: await server.token({ sub: "fixed-alice" }, Math.floor(Date.now() / 1000) - 10) });
    alice.onConnection("error", (e) => errors.push(e));
    await nextStatus(alice, "offline");
    expect(errors.map((e) => e.code)).toEqual(["token_expired"]);
  });

  it("keeps a refused send in the pending list as failed, until retried or discarded", async () => {
    const server = shared();
    const alice = await sdkClient(server, { sub: "fail-alice" });
    const bob = await sdkClient(server, { sub: "fail-bob" });
    const conversation = await bob.chat.createConversation({ type: "group", participantIds: ["fail-carol"], title: "Not alice's" });
    await expect(alice.chat.send(conversation.id, "let me in")).rejects.toMatchObject({ code: "forbidden" });
    const [failed] = alice.chat.pending(conversation.id);
    expect(failed).toMatchObject({ body: "let me in", state: "failed", error: { code: "forbidden" } });
    await expect(alice.chat.retry(failed!.clientMessageId)).rejects.toMatchObject({ code: "forbidden" });
    expect(alice.chat.pending()).toHaveLength(1);
    alice.chat.discard(failed!.clientMessageId);
    expect(alice.chat.pending()).toEqual([]);
  });

  it("goes offline and stays there when the server logs an idle session off", async () => {
    const server = await startServer({ env: { SESSION_IDLE_TIMEOUT_MS: "300" } });
    const alice = await sdkClient(server, { sub: "idle-alice" });
    const errors: string[] = [];
    alice.onConnection("error", (e) => errors.push(`${e.code}:${(e.details as { reason?: string }).reason}`));
    await alice.ready();
    await nextStatus(alice, "offline", 5000);
    expect(errors).toEqual(["unauthorized:idle"]);
    await new Promise((r) => setTimeout(r, 500));
    expect(alice.status).toBe("offline");
    alice.connect();
    await nextStatus(alice, "connected");
  });
});

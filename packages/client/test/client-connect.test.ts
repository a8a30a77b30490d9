import { describe, expect, it } from "vitest";
import { SwitchboardError, type Message } from "@switchboard/client";
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
    const bad = await alice.chat.send("not-a-uuid", "hi").catch((e: unknown) => e);
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
});

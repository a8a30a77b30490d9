import { describe, expect, it } from "vitest";
import type { Message } from "@switchboard/client";
import { Connection } from "../src/connection.js";
import { MessageSequencer } from "../src/services/message-sequencer.js";
import { SwitchboardError } from "../src/errors.js";
import { onCleanup } from "../../server/test/support/server-harness.js";
import { sdkClient, sharedServer, until } from "./support/sdk.js";

// The gap test writes 230 messages in bulk over REST, which spends the sender's `message` rate limit.
const server = sharedServer({ env: { RATE_LIMITS: "message=1000/10" } });

/**
 * Alice sends `count` messages to `{tag}-bob` in a new direct conversation;
 * Bob's own connection (connected) is returned for a sequencer to read through.
 */
async function sentToBob(tag: string, count: number) {
  const alice = await sdkClient(server(), { sub: `${tag}-alice` });
  const conversation = await alice.chat.createConversation({ type: "direct", participantIds: [`${tag}-bob`] });
  const sent: Message[] = [];
  for (let i = 1; i <= count; i++) sent.push(await alice.chat.send(conversation.id, `m${i}`));
  const connection = new Connection({ url: server().url, token: await server().token({ sub: `${tag}-bob` }) });
  onCleanup(async () => connection.close());
  await connection.whenConnected();
  return { alice, conversation, sent, connection };
}

describe("message sequencer", () => {
  it("holds back messages that arrive ahead of a gap, fetches the gap, and emits each seq once in order", async () => {
    const { conversation, sent, connection } = await sentToBob("order", 7);
    const sequencer = new MessageSequencer(connection);
    const emitted: number[] = [];
    sequencer.events.on("message", (m) => emitted.push(m.seq));
    sequencer.baseline(conversation.id, 1);

    // 5 and 3 arrive first (out of order), then duplicates of what is already known.
    sequencer.accept(sent[4]!);
    sequencer.accept(sent[2]!);
    expect(emitted).toEqual([]);
    await until(() => emitted.length === 6, 5000, "the gap to be filled");
    sequencer.accept(sent[0]!);
    sequencer.accept(sent[3]!);
    sequencer.accept(sent[6]!);
    expect(emitted).toEqual([2, 3, 4, 5, 6, 7]);
    expect(sequencer.lastSeq(conversation.id)).toBe(7);
  });

  it("a message held back behind a gap and deleted meanwhile is emitted as the fetched tombstone, never with its body", async () => {
    const { alice, conversation, sent, connection } = await sentToBob("held", 3);
    await alice.chat.delete(sent[2]!.id);
    const sequencer = new MessageSequencer(connection);
    const emitted: Message[] = [];
    sequencer.events.on("message", (m) => emitted.push(m));
    sequencer.baseline(conversation.id, 1);
    // The live copy of 3, from before its deletion, arrives ahead of 2.
    sequencer.accept(sent[2]!);
    await until(() => emitted.length === 2, 5000, "the gap to be filled");
    expect(emitted.map((m) => [m.seq, m.body, Boolean(m.deletedAt)])).toEqual([
      [2, "m2", false],
      [3, "", true],
    ]);
  });

  it("a conversation view ignores an edit of a message older than it loaded, so loadOlder skips none", async () => {
    const alice = await sdkClient(server(), { sub: "edit-alice" });
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["edit-bob"] });
    const token = await server().token({ sub: "edit-alice" });
    const ids: string[] = [];
    for (let i = 1; i <= 70; i++) {
      const res = await fetch(`${server().url}/v1/conversations/${conversation.id}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ body: `m${i}` }),
      });
      ids.push(((await res.json()) as { message: Message }).message.id);
    }
    const bob = await sdkClient(server(), { sub: "edit-bob" });
    const view = bob.chat.conversation(conversation.id);
    await view.load();
    expect(view.getSnapshot().messages[0]!.seq).toBe(21);
    const edits: number[] = [];
    bob.chat.onMessageChange((change) => change.kind === "updated" && edits.push(change.message.seq));
    await alice.chat.edit(ids[4]!, "m5, edited");
    await alice.chat.edit(ids[69]!, "m70, edited");
    await until(() => edits.length === 2, 5000, "both edits");
    expect(view.getSnapshot().messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 21));
    expect(view.getSnapshot().messages.at(-1)!.body).toBe("m70, edited");
    await view.loadOlder();
    const { messages, hasOlder } = view.getSnapshot();
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
    expect(messages[4]!.body).toBe("m5, edited");
    expect(hasOlder).toBe(false);
  });

  it("a gap whose fetch failed while connected is fetched again shortly, not left held until a reconnect", async () => {
    const { conversation, sent, connection } = await sentToBob("retry", 3);
    // The first history request fails as a server error would.
    const request = connection.request.bind(connection);
    let failures = 0;
    connection.request = ((event: string, payload: unknown) =>
      event === "message:history" && failures++ === 0 ? Promise.reject(new SwitchboardError("internal", "simulated")) : request(event as never, payload as never)) as typeof connection.request;
    const sequencer = new MessageSequencer(connection);
    const emitted: number[] = [];
    sequencer.events.on("message", (m) => emitted.push(m.seq));
    sequencer.baseline(conversation.id, 1);
    sequencer.accept(sent[2]!);
    await until(() => emitted.length === 2, 5000, "the gap to be fetched again");
    expect(emitted).toEqual([2, 3]);
    expect(failures).toBe(2);
  });

  it("pages through gaps longer than one history page", async () => {
    const alice = await sdkClient(server(), { sub: "page-alice" });
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["page-bob"] });
    // 230 messages, more than one 200-message page, through the chat HTTP API (quicker to write in bulk).
    const token = await server().token({ sub: "page-alice" });
    for (let i = 1; i <= 230; i++) {
      const res = await fetch(`${server().url}/v1/conversations/${conversation.id}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ body: `m${i}` }),
      });
      expect(res.status).toBeLessThan(300);
    }
    const connection = new Connection({ url: server().url, token: await server().token({ sub: "page-bob" })});
    onCleanup(async () => connection.close());
    const sequencer = new MessageSequencer(connection);
    const emitted: number[] = [];
    sequencer.events.on("message", (m) => emitted.push(m.seq));
    sequencer.baseline(conversation.id, 0);
    await sequencer.resync();
    expect(emitted).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
  });
});

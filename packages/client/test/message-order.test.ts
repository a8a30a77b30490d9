import { describe, expect, it } from "vitest";
import type { Message } from "@switchboard/client";
import { Connection } from "../src/connection.js";
import { MessageSequencer } from "../src/services/message-sequencer.js";
import { onCleanup } from "../../server/test/support/server-harness.js";
import { sdkClient, sharedServer, until } from "./support/sdk.js";

// The gap test writes 230 messages in bulk over REST, which spends the sender's `message` rate limit.
const server = sharedServer({ env: { RATE_LIMITS: "message=1000/10" } });

describe("message sequencer", () => {
  it("holds back messages that arrive ahead of a gap, fetches the gap, and emits each seq once in order", async () => {
    const alice = await sdkClient(server(), { sub: "order-alice" });
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["order-bob"] });
    const sent: Message[] = [];
    for (let i = 1; i <= 7; i++) sent.push(await alice.chat.send(conversation.id, `m${i}`));

    const connection = new Connection({ url: server().url, token: await server().token({ sub: "order-bob" })});
    onCleanup(async () => connection.close());
    await connection.whenConnected();
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

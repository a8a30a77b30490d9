import { describe, expect, it } from "vitest";
import { createServer, loadConfig } from "@switchboard/server";
import { io } from "socket.io-client";
import { TEST_SECRET, databaseEnv, nextEvent, onCleanup, startServer, testDb, type TestServer } from "./support/server-harness.js";
import { createGroup, ok } from "./support/chat-helpers.js";

const SENDERS = 20;
const PER_SENDER = 10;

async function expectGapless(server: TestServer, conversationId: string, total: number) {
  const { rows } = await server.server.database.query<{ seq: number }>("select seq from messages where conversation_id = $1 order by seq", [conversationId]);
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

describe(`concurrent senders (${testDb})`, () => {
  it("20 concurrent senders produce seq 1..N with no gap or duplicate", async () => {
    const server = await startServer();
    const owner = await server.connect({ sub: "u0", tenant: "acme" });
    const users = Array.from({ length: SENDERS }, (_, i) => `u${i}`);
    const id = await createGroup(owner.socket, users.slice(1));
    const sockets = await Promise.all(users.map(async (sub) => (await server.connect({ sub, tenant: "acme" })).socket));
    const acks = await Promise.all(
      sockets.flatMap((socket, s) =>
        Array.from({ length: PER_SENDER }, (_, i) => ok(socket, "message:send", { conversationId: id, body: `s${s}-${i}`, clientMessageId: `s${s}-${i}` })),
      ),
    );
    const seqs = acks.map((a) => a.message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: SENDERS * PER_SENDER }, (_, i) => i + 1));
    await expectGapless(server, id, SENDERS * PER_SENDER);
  });

  it.runIf(testDb === "postgres")("senders on two servers with their own connection pools on one Postgres still get seq 1..N", async () => {
    const env = databaseEnv();
    const a = await startServer({ env });
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", ...env });
    const other = await createServer({ config });
    await other.listen();
    onCleanup(() => other.stop());
    const owner = await a.connect({ sub: "u0", tenant: "acme" });
    const users = Array.from({ length: SENDERS }, (_, i) => `u${i}`);
    const id = await createGroup(owner.socket, users.slice(1));
    const sockets = await Promise.all(
      users.map(async (sub, i) => {
        if (i % 2 === 0) return (await a.connect({ sub, tenant: "acme" })).socket;
        const socket = io(other.url, { auth: { token: await other.signToken({ sub, tenant: "acme" }) }, transports: ["websocket"], forceNew: true, reconnection: false });
        onCleanup(async () => void socket.disconnect());
        await nextEvent(socket, "connected");
        return socket;
      }),
    );
    const acks = await Promise.all(
      sockets.flatMap((socket, s) => Array.from({ length: PER_SENDER }, (_, i) => ok(socket, "message:send", { conversationId: id, body: `s${s}-${i}` }))),
    );
    expect(acks.map((x) => x.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: SENDERS * PER_SENDER }, (_, i) => i + 1));
    await expectGapless(a, id, SENDERS * PER_SENDER);
  });
});

/**
 * The chat benchmark's peer: a group chat written the way typical apps write it
 * on Socket.IO. Each conversation is a room; `message:send` acks the sender and
 * `socket.to(room).emit`s `message:new` to the others. It speaks just the part
 * of Switchboard's wire contract the chat load clients use, so the same clients
 * measure both servers.
 *
 * With DATABASE_URL (and DATABASE_SCHEMA), each message is first stored by one
 * INSERT through a `pg` pool (the hand-built layer Switchboard replaces);
 * without it nothing is stored, which makes it the ceiling of Socket.IO
 * relaying this traffic on this machine. No token verification, no
 * validation, no idempotency, no seq.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { Server } from "socket.io";

// The harness gives each run a fresh schema (DATABASE_SCHEMA) and drops it afterwards.
const schema = process.env.DATABASE_SCHEMA ?? "public";
const pool = process.env.DATABASE_URL
  ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20, options: `-c search_path="${schema}"` })
  : undefined;
const table = "peer_messages";
if (pool) {
  await pool.query(`create schema if not exists "${schema}"`);
  await pool.query(`create table if not exists ${table} (
    id uuid primary key, conversation_id uuid not null, sender_id text not null, body text not null,
    created_at timestamptz not null default now())`);
  await pool.query(`create index if not exists ${table}_conversation on ${table} (conversation_id, created_at)`);
}

/** The token's subject, unverified: the peer trusts its clients (a ceiling, not a product). */
function subject(token: unknown): string {
  const payload = typeof token === "string" ? token.split(".")[1] : undefined;
  return payload ? String(JSON.parse(Buffer.from(payload, "base64url").toString()).sub) : "anonymous";
}

const http = createServer();
const io = new Server(http, { transports: ["websocket"] });
io.on("connection", (socket) => {
  const userId = subject(socket.handshake.auth.token);
  socket.join(`user:${userId}`);
  socket.emit("connected", { socketId: socket.id, userId });

  socket.on("conversation:create", ({ participantIds }: { participantIds: string[] }, ack: (reply: unknown) => void) => {
    const id = randomUUID();
    socket.join(id);
    io.in(participantIds.map((user) => `user:${user}`)).socketsJoin(id);
    ack({ ok: true, data: { conversation: { id } } });
  });

  socket.on("message:send", async ({ conversationId, body }: { conversationId: string; body: string }, ack: (reply: unknown) => void) => {
    const message = { id: randomUUID(), conversationId, senderId: userId, body, createdAt: new Date().toISOString() };
    if (pool) {
      try {
        await pool.query(`insert into ${table} (id, conversation_id, sender_id, body, created_at) values ($1, $2, $3, $4, $5)`, [
          message.id,
          conversationId,
          userId,
          body,
          message.createdAt,
        ]);
      } catch {
        return ack({ ok: false, error: { code: "unavailable" } });
      }
    }
    ack({ ok: true, data: { message } });
    socket.to(conversationId).emit("message:new", { message });
  });
});
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${(http.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));

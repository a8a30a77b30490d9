import type { Socket } from "socket.io-client";

interface Message {
  id: string;
  seq: number;
  senderId: string;
  clientMessageId?: string;
  body: string;
}

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string } };

/**
 * A chat client that keeps one conversation complete the way the protocol asks
 * clients to: it takes `message:new` live and, whenever it reconnects, is
 * told `server:resync` or sees a jump in `seq`, fetches what it is missing by `seq` through
 * `message:history`. Records how often each seq arrived live, so a test can
 * tell "delivered exactly once" from "fetched again".
 */
export class ChatFollower {
  readonly messages = new Map<number, Message>();
  readonly liveCount = new Map<number, number>();
  resyncs = 0;
  shutdowns = 0;
  /** Reconnections after the follower was created (on a socket that was already connected). */
  reconnects = 0;
  private catchingUp: Promise<void> | undefined;
  private again = false;

  /** `socket` is already connected. The sender's own connection gets no `message:new` for its sends; add them with {@link add}. */
  constructor(
    readonly socket: Socket,
    readonly conversationId: string,
  ) {
    socket.on("message:new", ({ message }: { message: Message & { conversationId: string } }) => {
      if (message.conversationId !== conversationId) return;
      this.liveCount.set(message.seq, (this.liveCount.get(message.seq) ?? 0) + 1);
      this.messages.set(message.seq, message);
      // A jump in seq is a gap (PROTOCOL.md 4): e.g. a message its node stored but died before publishing.
      if (message.seq > this.contiguous + 1) this.catchUp();
    });
    socket.on("connected", () => {
      this.reconnects++;
      this.catchUp();
    });
    socket.on("server:resync", () => {
      this.resyncs++;
      this.catchUp();
    });
    socket.on("server:shutdown", () => this.shutdowns++);
  }

  /** Messages this client sent itself (acked), which the server does not echo to the sending connection. */
  add(messages: Message[]): void {
    for (const m of messages) this.messages.set(m.seq, m);
  }

  /** Highest n such that seqs 1..n are all here. */
  get contiguous(): number {
    let n = 0;
    while (this.messages.has(n + 1)) n++;
    return n;
  }

  /** Fetches every message after the first gap; one run at a time, re-run if asked meanwhile. */
  catchUp(): void {
    if (this.catchingUp) {
      this.again = true;
      return;
    }
    this.catchingUp = (async () => {
      do {
        this.again = false;
        await this.fetchAfterGap().catch(() => {
          // Disconnected or the node went away mid-request: the next connect runs it again.
        });
      } while (this.again);
    })().finally(() => (this.catchingUp = undefined));
  }

  private async fetchAfterGap(): Promise<void> {
    for (;;) {
      const ack = (await this.socket
        .timeout(3000)
        .emitWithAck("message:history", { conversationId: this.conversationId, afterSeq: this.contiguous, limit: 200 })) as Ack<{ messages: Message[]; hasMore: boolean }>;
      if (!ack.ok) throw new Error(ack.error.code);
      for (const m of ack.data.messages) this.messages.set(m.seq, m);
      if (!ack.data.hasMore) return;
    }
  }
}

/**
 * Sends `count` messages as one user, each with its own clientMessageId,
 * retrying a send that was not acknowledged ok (timeout, node gone,
 * `unavailable`) with the same id until `deadline`. Returns the acked messages.
 */
export async function sendMany(socket: Socket, conversationId: string, prefix: string, count: number, options: { pauseMs: number; deadline: number }): Promise<Message[]> {
  const acked: Message[] = [];
  for (let i = 0; i < count; i++) {
    const payload = { conversationId, body: `${prefix} ${i}`, clientMessageId: `${prefix}-${i}` };
    for (;;) {
      if (Date.now() > options.deadline) throw new Error(`${prefix}: message ${i} not acknowledged before the deadline`);
      const ack = (await socket
        .timeout(2000)
        .emitWithAck("message:send", payload)
        .catch(() => undefined)) as Ack<{ message: Message }> | undefined;
      if (ack?.ok) {
        acked.push(ack.data.message);
        break;
      }
      // Only a dependency outage or a lost ack is worth retrying; anything else is a test bug.
      if (ack && ack.error.code !== "unavailable") throw new Error(`${prefix}: message ${i} refused: ${ack.error.code}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return acked;
}

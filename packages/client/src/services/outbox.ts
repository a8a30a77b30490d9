import type { Message } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import { SwitchboardError } from "../errors.js";
import { randomId } from "../ids.js";

/** A message written by this client and not yet acknowledged by the server. */
export interface PendingMessage {
  clientMessageId: string;
  conversationId: string;
  body: string;
  replyTo?: string;
  /** When `send` was called (ISO). */
  createdAt: string;
  /** `queued`: waiting for the connection; `sending`: on the wire; `failed`: refused (see `error`), kept until retried or discarded. */
  state: "queued" | "sending" | "failed";
  error?: SwitchboardError;
}

interface Entry extends PendingMessage {
  resolve(message: Message): void;
  reject(error: SwitchboardError): void;
}

type OutboxEvents = {
  /** The pending list changed. */
  change: () => void;
  /** A pending message was stored by the server. */
  sent: (message: Message) => void;
};

/** How long one send waits for its ack before it is retried (same clientMessageId). */
const SEND_TIMEOUT_MS = 10_000;

/**
 * Messages are sent through a queue, one at a time in the order written, so
 * they get seqs in that order. Each carries a `clientMessageId`; while the
 * connection is down they wait, and a send whose ack was lost is sent again
 * with the same id (the server answers a retry with the original message and
 * broadcasts nothing), so every message is stored exactly once. A refusal
 * (`bad_request`, `forbidden`, ...) rejects the send and leaves the message in
 * the list as `failed`; `unavailable` and `rate_limited` are retried.
 */
export class Outbox {
  readonly events = new Emitter<OutboxEvents>();
  private readonly entries: Entry[] = [];
  private flushing = false;
  private closed = false;
  private snapshot: readonly PendingMessage[] = [];

  constructor(private readonly connection: Connection) {
    connection.events.on("connected", () => void this.flush());
  }

  /** Queues a message; resolves with the stored message. */
  send(conversationId: string, body: string, options: { replyTo?: string; clientMessageId?: string } = {}): Promise<Message> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<Message>((resolve, reject) => {
      this.entries.push({
        clientMessageId: options.clientMessageId ?? randomId(),
        conversationId,
        body,
        ...(options.replyTo !== undefined && { replyTo: options.replyTo }),
        createdAt: new Date().toISOString(),
        state: "queued",
        resolve,
        reject,
      });
      this.changed();
      void this.flush();
    });
  }

  /** Pending messages (all conversations, or one), oldest first. The array is replaced on every change. */
  pending(conversationId?: string): readonly PendingMessage[] {
    return conversationId === undefined ? this.snapshot : this.snapshot.filter((p) => p.conversationId === conversationId);
  }

  /** Sends a failed message again; resolves with the stored message. */
  retry(clientMessageId: string): Promise<Message> {
    const entry = this.entries.find((e) => e.clientMessageId === clientMessageId && e.state === "failed");
    if (!entry) return Promise.reject(new SwitchboardError("not_found", "no failed message with that clientMessageId"));
    this.remove(entry);
    return this.send(entry.conversationId, entry.body, { clientMessageId: entry.clientMessageId, ...(entry.replyTo !== undefined && { replyTo: entry.replyTo }) });
  }

  /** Drops a failed message from the list. */
  discard(clientMessageId: string): void {
    const entry = this.entries.find((e) => e.clientMessageId === clientMessageId && e.state === "failed");
    if (entry) this.remove(entry);
  }

  /**
   * The client closed for good: every message not yet stored is rejected with
   * `unavailable` (`details.reason: "closed"`) and dropped, so nothing awaits
   * a send that can no longer happen. One already on the wire may still have
   * been stored.
   */
  close(): void {
    this.closed = true;
    const unsettled = this.entries.splice(0);
    for (const entry of unsettled) if (entry.state !== "failed") entry.reject(closedError());
    this.changed();
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      for (let entry = this.nextQueued(); entry && !this.closed && this.connection.status === "connected"; entry = this.nextQueued()) {
        entry.state = "sending";
        this.changed();
        try {
          const { message } = await this.connection.request(
            "message:send",
            { conversationId: entry.conversationId, body: entry.body, clientMessageId: entry.clientMessageId, ...(entry.replyTo !== undefined && { replyTo: entry.replyTo }) },
            { timeoutMs: SEND_TIMEOUT_MS },
          );
          this.remove(entry);
          this.events.emit("sent", message);
          entry.resolve(message);
        } catch (err) {
          const error = err instanceof SwitchboardError ? err : new SwitchboardError("internal", String(err));
          if (error.retryable) {
            entry.state = "queued";
            this.changed();
            await sleep(retryDelay(error));
            continue;
          }
          entry.state = "failed";
          entry.error = error;
          this.changed();
          entry.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private nextQueued(): Entry | undefined {
    return this.entries.find((e) => e.state === "queued");
  }

  private remove(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
    this.changed();
  }

  private changed(): void {
    this.snapshot = this.entries.map(({ resolve: _r, reject: _j, ...pending }) => ({ ...pending }));
    this.events.emit("change");
  }
}

function retryDelay(error: SwitchboardError): number {
  const after = (error.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof after === "number" && after > 0 ? Math.min(after, 60_000) : 1_000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function closedError(): SwitchboardError {
  return new SwitchboardError("unavailable", "the client was closed before the message was stored", { reason: "closed" });
}

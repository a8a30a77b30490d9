import type { Message, TypingEvent } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import { SwitchboardError } from "../errors.js";
import type { Unsubscribe } from "../types.js";
import type { MessageSequencer } from "./message-sequencer.js";
import type { Outbox, PendingMessage } from "./outbox.js";
import type { MessageChanges } from "./chat.js";

/** Everything a chat screen shows for one conversation. Replaced (never mutated) on each change. */
export interface ConversationSnapshot {
  conversationId: string;
  /** Stored messages in seq order, each once (deleted ones as tombstones with `deletedAt`). */
  messages: readonly Message[];
  /** This client's messages not yet stored (queued offline, sending, or failed). */
  pending: readonly PendingMessage[];
  /** Other users typing now. */
  typingUsers: readonly TypingEvent[];
  /** Per user: the highest seq they have read (receipts seen since this view opened). */
  readUpTo: Readonly<Record<string, number>>;
  /** Per user: the highest seq delivered to them (receipts seen since this view opened). */
  deliveredUpTo: Readonly<Record<string, number>>;
  /** Whether older messages exist before `messages[0]`. */
  hasOlder: boolean;
  /** The first page is loading. */
  loading: boolean;
  /** The last failed load, if any. */
  error?: SwitchboardError;
}

/** Page size of the first load and of `loadOlder`. */
const PAGE = 50;
/** `typing()` sends `typing:start` at most this often, and `typing:stop` after this long without a call. */
const TYPING_REPEAT_MS = 3_000;

/**
 * Live local state of one conversation: history (loaded newest first, older
 * on demand), new messages from the sequencer (gapless, in order), pending
 * sends, typing users and read receipts. Framework-free; React's
 * `useConversation` reads it through `subscribe` / `getSnapshot`.
 */
export class ConversationView {
  private readonly changes = new Emitter<{ change: () => void }>();
  private readonly bySeq = new Map<number, Message>();
  private state: ConversationSnapshot;
  /**
   * Users shown typing. The server announces a start once and sends the stop
   * itself (after `TYPING_TIMEOUT_MS` without a new start, on a message, on
   * disconnect), so no local timer guesses when typing ended: one did, and hid
   * anyone typing for longer than it. While this client is disconnected stops
   * can be missed, so the list is emptied then.
   */
  private readonly typists = new Set<string>();
  private loaded: Promise<void> | undefined;
  private wanted = false;
  private readonly unsubscribers: Unsubscribe[] = [];
  private lastTypingSent = 0;
  private typingStopTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly conversationId: string,
    private readonly connection: Connection,
    private readonly sequencer: MessageSequencer,
    private readonly outbox: Outbox,
    /** Edits and deletions, this client's own included. */
    changes: Emitter<MessageChanges>,
    /** Told the caller's unread count after each `markRead`. */
    private readonly onRead: (unreadCount: number) => void = () => {},
  ) {
    this.state = {
      conversationId,
      messages: [],
      pending: outbox.pending(conversationId),
      typingUsers: [],
      readUpTo: {},
      deliveredUpTo: {},
      hasOlder: false,
      loading: false,
    };
    const mine = <T extends { conversationId: string }>(fn: (e: T) => void) => (e: T) => {
      if (e.conversationId === conversationId) fn(e);
    };
    this.unsubscribers.push(
      sequencer.events.on("message", mine((m: Message) => this.merge([m]))),
      outbox.events.on("change", () => this.update({ pending: outbox.pending(conversationId) })),
      changes.on("updated", mine((m: Message) => this.updated(m))),
      changes.on("deleted", mine((e) => this.markDeleted(e.seq))),
      connection.on("message:read", mine((e) => this.receipt("readUpTo", e.userId, e.upToSeq))),
      connection.on("message:delivered", mine((e) => this.receipt("deliveredUpTo", e.userId, e.upToSeq))),
      connection.on("typing:start", mine((e) => this.typingStarted(e))),
      connection.on("typing:stop", mine((e) => this.typingStopped(e.userId))),
      connection.events.on("status", (status) => {
        if (status !== "connected") for (const userId of [...this.typists]) this.typingStopped(userId);
      }),
      // After a reconnect the sequencer fetches new messages; the newest page is
      // re-read too, so edits and deletions made meanwhile show up.
      connection.events.on("resync", () => {
        if (this.loaded) void this.fetchNewest().catch(() => {});
      }),
      // A first load that failed (no connection in time) is retried once connected.
      connection.events.on("connected", () => {
        if (this.wanted && !this.loaded) void this.load();
      }),
    );
  }

  getSnapshot = (): ConversationSnapshot => this.state;

  subscribe = (listener: () => void): Unsubscribe => this.changes.on("change", listener);

  /** Loads the newest page once (later calls return the same promise). */
  load(): Promise<void> {
    this.wanted = true;
    this.loaded ??= this.fetchNewest().catch((err: unknown) => {
      this.loaded = undefined;
      this.update({ loading: false, error: asError(err) });
    });
    return this.loaded;
  }

  /** Loads the page before the oldest loaded message. */
  async loadOlder(): Promise<void> {
    const first = this.state.messages[0];
    if (!first) return this.load();
    const { messages, hasMore } = await this.connection.request("message:history", { conversationId: this.conversationId, beforeSeq: first.seq, limit: PAGE });
    this.merge(messages, { hasOlder: hasMore });
  }

  /** Sends (or queues, when offline) a message; resolves with the stored message. */
  send(body: string, options: { replyTo?: string } = {}): Promise<Message> {
    this.stopTyping();
    return this.outbox.send(this.conversationId, body, options);
  }

  /** Marks read up to `upToSeq` (default: the last loaded message). */
  async markRead(upToSeq?: number): Promise<{ unreadCount: number }> {
    const seq = upToSeq ?? this.state.messages.at(-1)?.seq ?? 0;
    const answer = await this.connection.request("message:read", { conversationId: this.conversationId, upToSeq: seq });
    this.onRead(answer.unreadCount);
    return answer;
  }

  /**
   * Call on every keystroke: sends `typing:start` at most every 3 s and
   * `typing:stop` 3 s after the last call. Best effort (never rejects).
   */
  typing(): void {
    const now = Date.now();
    if (now - this.lastTypingSent > TYPING_REPEAT_MS) {
      this.lastTypingSent = now;
      this.connection.request("typing:start", { conversationId: this.conversationId }).catch(() => {});
    }
    if (this.typingStopTimer) clearTimeout(this.typingStopTimer);
    this.typingStopTimer = setTimeout(() => this.stopTyping(), TYPING_REPEAT_MS);
  }

  /** Sends `typing:stop` now (e.g. after sending). Best effort. */
  stopTyping(): void {
    if (this.typingStopTimer) clearTimeout(this.typingStopTimer);
    this.typingStopTimer = undefined;
    if (this.lastTypingSent === 0) return;
    this.lastTypingSent = 0;
    this.connection.request("typing:stop", { conversationId: this.conversationId }).catch(() => {});
  }

  /** Stops listening (the view is unusable afterwards). */
  dispose(): void {
    for (const off of this.unsubscribers.splice(0)) off();
    this.typists.clear();
    if (this.typingStopTimer) clearTimeout(this.typingStopTimer);
    this.typingStopTimer = undefined;
  }

  private async fetchNewest(): Promise<void> {
    if (this.state.messages.length === 0) this.update({ loading: true });
    const { messages, hasMore } = await this.connection.request("message:history", { conversationId: this.conversationId, limit: PAGE });
    const hasOlder = this.state.messages.length === 0 || (messages[0] !== undefined && messages[0].seq <= this.state.messages[0]!.seq) ? hasMore : this.state.hasOlder;
    this.merge(messages, { hasOlder, loading: false });
    const last = messages.at(-1);
    // The sequencer continues from what the page showed (or fetches up to it, when it was behind).
    this.sequencer.baseline(this.conversationId, last?.seq ?? 0);
  }

  private merge(messages: readonly Message[], extra: Partial<ConversationSnapshot> = {}): void {
    let changed = false;
    for (const message of messages) {
      const known = this.bySeq.get(message.seq);
      if (known && !newer(message, known)) continue;
      this.bySeq.set(message.seq, message);
      changed = true;
      // A message from a user implies they stopped typing.
      if (this.typists.has(message.senderId)) this.typingStopped(message.senderId);
    }
    if (!changed) return Object.keys(extra).length ? this.update(extra) : undefined;
    const sorted = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.update({ ...extra, messages: sorted, ...("error" in this.state && { error: undefined }) });
  }

  /**
   * An edit of a loaded message, or of one past the newest loaded (the
   * sequencer's stream fills the seqs before it). One older than the oldest
   * loaded is not taken in: `loadOlder` pages from the oldest message shown,
   * and paging from it would skip every message between the two; the page
   * that brings it has the edit.
   */
  private updated(message: Message): void {
    const oldest = this.state.messages[0];
    if (!this.bySeq.has(message.seq) && (!oldest || message.seq < oldest.seq)) return;
    this.merge([message]);
  }

  private markDeleted(seq: number): void {
    const known = this.bySeq.get(seq);
    if (!known || known.deletedAt) return;
    this.merge([{ ...known, body: "", deletedAt: new Date().toISOString() }]);
  }

  private receipt(kind: "readUpTo" | "deliveredUpTo", userId: string, upToSeq: number): void {
    const patch: Partial<ConversationSnapshot> = {};
    if (upToSeq > (this.state[kind][userId] ?? 0)) patch[kind] = { ...this.state[kind], [userId]: upToSeq };
    // Reading implies delivery (the server moves both), but it sends no `message:delivered` for it.
    if (kind === "readUpTo" && upToSeq > (this.state.deliveredUpTo[userId] ?? 0)) patch.deliveredUpTo = { ...this.state.deliveredUpTo, [userId]: upToSeq };
    if (Object.keys(patch).length > 0) this.update(patch);
  }

  private typingStarted(event: TypingEvent): void {
    if (event.userId === this.connection.connectedEvent?.userId || this.typists.has(event.userId)) return;
    this.typists.add(event.userId);
    this.update({ typingUsers: [...this.state.typingUsers, event] });
  }

  private typingStopped(userId: string): void {
    if (!this.typists.delete(userId)) return;
    this.update({ typingUsers: this.state.typingUsers.filter((t) => t.userId !== userId) });
  }

  private update(patch: Partial<ConversationSnapshot>): void {
    this.state = { ...this.state, ...patch };
    this.changes.emit("change");
  }
}

/** Whether `a` is a later version of the same message than `b` (edited or deleted since). */
function newer(a: Message, b: Message): boolean {
  if (a.id !== b.id) return false;
  if (a.deletedAt && !b.deletedAt) return true;
  return (a.editedAt ?? "") > (b.editedAt ?? "") || (a.deletedAt ?? "") > (b.deletedAt ?? "");
}

function asError(err: unknown): SwitchboardError {
  return err instanceof SwitchboardError ? err : new SwitchboardError("internal", String(err));
}

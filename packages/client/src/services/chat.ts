import type { Conversation, ConversationCreatePayload, ConversationSummary, Message, MessageDeletedEvent, MessageHistoryPayload } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import type { ServerEventData, Unsubscribe } from "../types.js";
import { ConversationView } from "./conversation-view.js";
import { MessageSequencer } from "./message-sequencer.js";
import { Outbox, type PendingMessage } from "./outbox.js";

/** Chat events `chat.on` offers; `message:new` is the ordered, deduplicated stream. */
export type ChatEventName =
  | "message:new"
  | "message:updated"
  | "message:deleted"
  | "message:delivered"
  | "message:read"
  | "typing:start"
  | "typing:stop"
  | "conversation:new"
  | "conversation:updated"
  | "conversation:removed";

/** Edits and deletions as {@link ChatService} relays them to views and listeners. */
export type MessageChanges = { updated: (message: Message) => void; deleted: (event: MessageDeletedEvent) => void };

/**
 * Chat (PROTOCOL.md section 4). `send` goes through the offline outbox;
 * `on("message:new")` delivers every message once, in seq order per
 * conversation, including this client's own sends and messages fetched to
 * fill gaps after a reconnect.
 */
export class ChatService {
  private readonly sequencer: MessageSequencer;
  private readonly outbox: Outbox;
  private readonly views = new Map<string, ConversationView>();
  /** Reads made by this client: the server tells the user's other devices (`message:read`), not this one. */
  private readonly reads = new Emitter<{ unread: (conversationId: string, unreadCount: number) => void }>();
  /** Edits and deletions, this client's own included: the server tells every connection but the one that made them. */
  private readonly changes = new Emitter<MessageChanges>();

  constructor(private readonly connection: Connection) {
    this.sequencer = new MessageSequencer(connection);
    this.outbox = new Outbox(connection);
    connection.on("message:new", ({ message }) => this.sequencer.accept(message));
    this.outbox.events.on("sent", (message) => this.sequencer.accept(message));
    connection.on("conversation:new", ({ conversation }) => this.sequencer.baseline(conversation.id, conversation.lastSeq));
    connection.on("conversation:removed", ({ conversationId }) => this.sequencer.forget(conversationId));
    connection.on("message:updated", ({ message }) => this.changes.emit("updated", message));
    connection.on("message:deleted", (event) => this.changes.emit("deleted", event));
    connection.events.on("resync", () => void this.sequencer.resync());
    // Conversations created after this point were announced live; one missed while away is fetched by the resync.
    connection.events.on("connected", (event, reconnect) => {
      if (!reconnect) this.sequencer.since(event.serverTime);
    });
  }

  /**
   * Sends a message; while offline it is queued and sent on reconnect. Resolves
   * with the stored message (exactly once on the server, thanks to its
   * `clientMessageId`); rejects with a SwitchboardError when refused.
   */
  send(conversationId: string, body: string, options: { replyTo?: string; clientMessageId?: string } = {}): Promise<Message> {
    return this.outbox.send(conversationId, body, options);
  }

  /** Messages written here and not yet stored (optionally of one conversation). */
  pending(conversationId?: string): readonly PendingMessage[] {
    return this.outbox.pending(conversationId);
  }

  /** Sends a failed pending message again. */
  retry(clientMessageId: string): Promise<Message> {
    return this.outbox.retry(clientMessageId);
  }

  /** Drops a failed pending message. */
  discard(clientMessageId: string): void {
    this.outbox.discard(clientMessageId);
  }

  /** The live local state of one conversation (one shared instance per id). Call `load()` on it to fetch history. */
  conversation(conversationId: string): ConversationView {
    let view = this.views.get(conversationId);
    if (!view) {
      const onRead = (unreadCount: number) => this.reads.emit("unread", conversationId, unreadCount);
      this.views.set(conversationId, (view = new ConversationView(conversationId, this.connection, this.sequencer, this.outbox, this.changes, onRead)));
    }
    return view;
  }

  /** One page of history, in seq order (`afterSeq` for newer, `beforeSeq` for older). */
  history(conversationId: string, options: Omit<MessageHistoryPayload, "conversationId"> = {}): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.connection.request("message:history", { conversationId, ...options });
  }

  /** Edits one of the caller's messages; views and {@link onMessageChange} see it at once. */
  async edit(messageId: string, body: string): Promise<Message> {
    const { message } = await this.connection.request("message:edit", { messageId, body });
    this.changes.emit("updated", message);
    return message;
  }

  /** Deletes one of the caller's messages (its body is erased); views and {@link onMessageChange} see it at once. */
  async delete(messageId: string): Promise<void> {
    const deleted = await this.connection.request("message:delete", { messageId });
    // A server before the reply carried the conversation and seq answered `{ messageId }` alone.
    if (deleted.conversationId !== undefined) this.changes.emit("deleted", deleted);
  }

  /**
   * Every edit and deletion of a message the caller can see, made on any
   * device, this client included (for lists that show a last message).
   */
  onMessageChange(listener: (change: { kind: "updated"; message: Message } | ({ kind: "deleted" } & MessageDeletedEvent)) => void): Unsubscribe {
    const offs = [this.changes.on("updated", (message) => listener({ kind: "updated", message })), this.changes.on("deleted", (event) => listener({ kind: "deleted", ...event }))];
    return () => offs.forEach((off) => off());
  }

  /** Read receipt up to `upToSeq`; resolves with the caller's remaining unread count. */
  async markRead(conversationId: string, upToSeq: number): Promise<number> {
    const { unreadCount } = await this.connection.request("message:read", { conversationId, upToSeq });
    this.reads.emit("unread", conversationId, unreadCount);
    return unreadCount;
  }

  /**
   * The caller's unread count of a conversation after a read made by this
   * client (`markRead`, here or on a view). Reads on the user's other devices
   * arrive as `message:read` events instead.
   */
  onUnreadChange(listener: (conversationId: string, unreadCount: number) => void): Unsubscribe {
    return this.reads.on("unread", listener);
  }

  /** For the client's `close()`: unsent messages are rejected and views stop (no timer is left behind). */
  close(): void {
    this.outbox.close();
    for (const view of this.views.values()) view.dispose();
  }

  async markDelivered(conversationId: string, upToSeq: number): Promise<void> {
    await this.connection.request("message:delivered", { conversationId, upToSeq });
  }

  async startTyping(conversationId: string): Promise<void> {
    await this.connection.request("typing:start", { conversationId });
  }

  async stopTyping(conversationId: string): Promise<void> {
    await this.connection.request("typing:stop", { conversationId });
  }

  /** Creates a conversation (a direct one between the same two users is returned, not duplicated). */
  async createConversation(payload: ConversationCreatePayload): Promise<Conversation> {
    const { conversation } = await this.connection.request("conversation:create", payload);
    this.sequencer.baseline(conversation.id, conversation.lastSeq);
    return conversation;
  }

  /** The caller's conversations, most recent activity first, with `lastMessage` and `unreadCount`. */
  async listConversations(options: { limit?: number; before?: string } = {}): Promise<ConversationSummary[]> {
    const { conversations } = await this.connection.request("conversation:list", options);
    for (const c of conversations) this.sequencer.listed(c);
    return conversations;
  }

  async getConversation(conversationId: string): Promise<ConversationSummary> {
    const { conversation } = await this.connection.request("conversation:get", { conversationId });
    this.sequencer.listed(conversation);
    return conversation;
  }

  async addParticipants(conversationId: string, userIds: string[]): Promise<Conversation> {
    return (await this.connection.request("conversation:addParticipants", { conversationId, userIds })).conversation;
  }

  async removeParticipants(conversationId: string, userIds: string[]): Promise<Conversation> {
    return (await this.connection.request("conversation:removeParticipants", { conversationId, userIds })).conversation;
  }

  async leaveConversation(conversationId: string): Promise<void> {
    await this.connection.request("conversation:leave", { conversationId });
    this.sequencer.forget(conversationId);
  }

  /** Listens to a chat event; `message:new` is gapless, ordered and deduplicated. */
  on<K extends ChatEventName>(event: K, handler: (data: ServerEventData<K>) => void): Unsubscribe {
    // A message deleted before this client got it (while away, or held behind a gap) is no news:
    // its tombstone keeps the sequencer's order and shows in views, but is not announced as new.
    if (event === "message:new") return this.sequencer.events.on("message", (message) => !message.deletedAt && (handler as (d: { message: Message }) => void)({ message }));
    return this.connection.on(event, handler);
  }

  /** Listens to outbox changes (pending list). */
  onPendingChange(listener: () => void): Unsubscribe {
    return this.outbox.events.on("change", listener);
  }
}

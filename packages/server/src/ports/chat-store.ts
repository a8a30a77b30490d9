import type { Conversation, ConversationSummary, Message } from "@switchboard/protocol";

export interface NewConversation {
  id: string;
  tenantId: string;
  type: "direct" | "group";
  title?: string;
  createdBy: string;
  /** Everyone, the creator included; the creator is the group's admin. */
  participantIds: string[];
  /** Sorted pair of a direct conversation: at most one per tenant. */
  directKey?: string;
  now: Date;
}

export interface NewMessage {
  id: string;
  tenantId: string;
  conversationId: string;
  senderId: string;
  senderName: string;
  body: string;
  clientMessageId?: string;
  replyTo?: string;
  now: Date;
}

/** Outcome of {@link ChatStore.appendMessage}. */
export type AppendResult =
  | { kind: "stored"; message: Message; participantIds: string[] }
  /** The sender already sent this clientMessageId: the original message. */
  | { kind: "duplicate"; message: Message }
  | { kind: "not_participant" }
  | { kind: "bad_reply" };

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

export interface ReceiptUpdate {
  /** False when the receipt was already at or past `upToSeq` (receipts never move back). */
  moved: boolean;
  upToSeq: number;
  at: string;
}

/**
 * Durable chat state: conversations, participants with their receipts, and
 * messages.
 *
 * Contract:
 * - `appendMessage` assigns the conversation's next `seq` and stores the message
 *   atomically: concurrent appends (on any number of processes sharing the
 *   database) get consecutive seqs with no gap and no duplicate; a refused or
 *   failed append consumes no seq. It resolves only after the commit.
 * - `(tenantId, senderId, clientMessageId)` identifies a message: a second append
 *   with the same triple stores nothing and returns the first message.
 * - Receipts are monotonic: an update to a lower seq changes nothing, and seqs
 *   past the conversation's last message are clamped to it.
 * - Every method is scoped to a tenant; ids of another tenant are not found.
 */
export interface ChatStore {
  /** Creates the conversation; for a direct pair that exists already, returns that one (re-adding a participant who had left). */
  createConversation(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  getConversation(tenantId: string, conversationId: string): Promise<Conversation | null>;
  /** A conversation as seen by one participant (last message, unread count); null when not a participant. */
  getSummary(tenantId: string, conversationId: string, userId: string): Promise<ConversationSummary | null>;
  listConversations(tenantId: string, userId: string, query: { limit: number; before?: string; beforeId?: string }): Promise<ConversationSummary[]>;
  isParticipant(tenantId: string, conversationId: string, userId: string): Promise<boolean>;
  participantIds(tenantId: string, conversationId: string): Promise<string[]>;
  /** Adds users; returns those who were not participants before. */
  addParticipants(tenantId: string, conversationId: string, userIds: string[], now: Date): Promise<string[]>;
  /** Removes users; returns those who were participants. */
  removeParticipants(tenantId: string, conversationId: string, userIds: string[]): Promise<string[]>;

  appendMessage(input: NewMessage): Promise<AppendResult>;
  history(tenantId: string, conversationId: string, query: HistoryQuery): Promise<{ messages: Message[]; hasMore: boolean }>;
  getMessage(tenantId: string, messageId: string): Promise<Message | null>;
  editMessage(tenantId: string, messageId: string, body: string, now: Date): Promise<Message | null>;
  /** Soft delete: the body is erased from storage; the message keeps its seq. */
  deleteMessage(tenantId: string, messageId: string, now: Date): Promise<Message | null>;

  advanceReceipt(tenantId: string, conversationId: string, userId: string, kind: "delivered" | "read", upToSeq: number, now: Date): Promise<ReceiptUpdate>;
  unreadCount(tenantId: string, conversationId: string, userId: string): Promise<number>;
}

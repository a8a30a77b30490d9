import type { Conversation, ConversationParticipant, Message } from "@switchboard/protocol";

/** Column lists and row -> wire-object mapping shared by the chat queries. */
export const MESSAGE_COLUMNS =
  "id, conversation_id, seq, sender_id, sender_name, body, client_message_id, reply_to, created_at, edited_at, deleted_at";
export const CONVERSATION_COLUMNS = "id, type, title, created_by, created_at, last_seq, last_activity_at";

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender_name: string;
  body: string;
  client_message_id: string | null;
  reply_to: string | null;
  created_at: Date | string;
  edited_at: Date | string | null;
  deleted_at: Date | string | null;
}

export interface ConversationRow {
  id: string;
  type: "direct" | "group";
  title: string | null;
  created_by: string;
  created_at: Date | string;
  last_seq: number;
  last_activity_at: Date | string;
}

export interface ParticipantRow {
  conversation_id: string;
  user_id: string;
  role: "admin" | "member";
  joined_at: Date | string;
}

/** Timestamps leave as ISO strings whichever driver produced them. */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function toMessage(row: MessageRow): Message {
  const message: Message = {
    id: row.id,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    senderId: row.sender_id,
    senderName: row.sender_name,
    body: row.body,
    createdAt: iso(row.created_at),
  };
  if (row.client_message_id !== null) message.clientMessageId = row.client_message_id;
  if (row.reply_to !== null) message.replyTo = row.reply_to;
  if (row.edited_at !== null) message.editedAt = iso(row.edited_at);
  if (row.deleted_at !== null) message.deletedAt = iso(row.deleted_at);
  return message;
}

export function toParticipant(row: ParticipantRow): ConversationParticipant {
  return { userId: row.user_id, role: row.role, joinedAt: iso(row.joined_at) };
}

export function toConversation(row: ConversationRow, participants: ConversationParticipant[]): Conversation {
  const conversation: Conversation = {
    id: row.id,
    type: row.type,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    lastSeq: Number(row.last_seq),
    lastActivityAt: iso(row.last_activity_at),
    participants,
  };
  if (row.title !== null) conversation.title = row.title;
  return conversation;
}

/** SQLSTATE unique_violation: the idempotency key or a seq was taken. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e.code !== "23505") return false;
  if (!constraint) return true;
  return e.constraint === constraint || (typeof e.message === "string" && e.message.includes(constraint));
}

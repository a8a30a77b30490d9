import { z } from "zod";
import { beforeIdNeedsBefore, pageCursor } from "./paging.js";
import { characterCount, storedText } from "./text.js";
import { serverIdSchema, serverReferenceSchema, userIdSchema } from "../identifiers.js";

/** Longest body after trimming (PROTOCOL.md section 4). */
export const MESSAGE_BODY_MAX = 8000;
/** Most participants a group conversation may have, the creator included. */
export const GROUP_MAX_PARTICIPANTS = 256;
/** Largest `limit` of `message:history`. */
export const HISTORY_LIMIT_MAX = 200;

export const conversationIdSchema = serverIdSchema("conversation");
export const messageIdSchema = serverIdSchema("message");
/** The highest `seq` a conversation can reach: the store's column is a 32-bit integer. */
export const SEQ_MAX = 2_147_483_647;
/**
 * A position in a conversation. Any safe integer is accepted and one past
 * {@link SEQ_MAX} reads as it: no message is there, so a read receipt is
 * clamped to the last message and a history bound past the end is the end,
 * as for any value past the last message (PROTOCOL.md section 4).
 */
const seqSchema = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .transform((seq) => Math.min(seq, SEQ_MAX));

/**
 * Bodies are text, stored exactly as sent; the limits apply to the trimmed text
 * (so whitespace-only bodies are refused), in characters (code points: an emoji
 * is one). The raw length is capped too, in UTF-16 units (four per character
 * allowed), so padding cannot smuggle in a huge payload. Text Postgres cannot
 * hold as sent (U+0000, an unpaired surrogate) is refused.
 */
/** Characters that print nothing and that `trim` keeps: zero-width space, (non-)joiners, word joiner, BOM. */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/g;

export const messageBodySchema = storedText()
  .max(MESSAGE_BODY_MAX * 4, `must be at most ${MESSAGE_BODY_MAX} characters`)
  // Zero-width characters and the BOM count as blank too: a body of them alone shows as an empty bubble.
  .refine((body) => body.replace(INVISIBLE, "").trim().length >= 1, "must not be empty")
  .refine((body) => characterCount(body.trim()) <= MESSAGE_BODY_MAX, `must be at most ${MESSAGE_BODY_MAX} characters`);

export const conversationCreateSchema = z.object({
  type: z.enum(["direct", "group"]),
  participantIds: z.array(userIdSchema).min(1).max(GROUP_MAX_PARTICIPANTS),
  title: storedText().trim().min(1).max(200).optional(),
});

/** `before` is the previous page's last `lastActivityAt`, `beforeId` that conversation's id (see {@link pageCursor}). */
export const conversationListSchema = z.object(pageCursor("conversation")).refine(...beforeIdNeedsBefore);

export const conversationGetSchema = z.object({ conversationId: conversationIdSchema });

export const participantsChangeSchema = z.object({
  conversationId: conversationIdSchema,
  userIds: z.array(userIdSchema).min(1).max(GROUP_MAX_PARTICIPANTS),
});

export const messageSendSchema = z.object({
  conversationId: conversationIdSchema,
  body: messageBodySchema,
  clientMessageId: storedText().min(1).max(128).optional(),
  replyTo: serverReferenceSchema("not a message of this conversation").optional(),
});

export const messageHistorySchema = z.object({
  conversationId: conversationIdSchema,
  beforeSeq: seqSchema.optional(),
  afterSeq: seqSchema.optional(),
  limit: z.number().int().min(1).max(HISTORY_LIMIT_MAX).optional(),
});

export const messageEditSchema = z.object({ messageId: messageIdSchema, body: messageBodySchema });
export const messageDeleteSchema = z.object({ messageId: messageIdSchema });
export const receiptSchema = z.object({ conversationId: conversationIdSchema, upToSeq: seqSchema });
export const typingSchema = z.object({ conversationId: conversationIdSchema });

export type ConversationCreatePayload = z.infer<typeof conversationCreateSchema>;
export type ConversationListPayload = z.infer<typeof conversationListSchema>;
export type ParticipantsChangePayload = z.infer<typeof participantsChangeSchema>;
export type MessageSendPayload = z.infer<typeof messageSendSchema>;
export type MessageHistoryPayload = z.infer<typeof messageHistorySchema>;
export type MessageEditPayload = z.infer<typeof messageEditSchema>;
export type ReceiptPayload = z.infer<typeof receiptSchema>;

/** A stored chat message. Deleted messages keep their place (`seq`) with an empty body. */
export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderName: string;
  body: string;
  clientMessageId?: string;
  replyTo?: string;
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
}

export interface ConversationParticipant {
  userId: string;
  role: "admin" | "member";
  joinedAt: string;
}

export interface Conversation {
  id: string;
  type: "direct" | "group";
  title?: string;
  createdBy: string;
  createdAt: string;
  /** Highest `seq` so far (0 before the first message). */
  lastSeq: number;
  /** Time of the last message, or of creation: the order of `conversation:list`. */
  lastActivityAt: string;
  participants: ConversationParticipant[];
}

/** A conversation as listed for one user. */
export interface ConversationSummary extends Conversation {
  lastMessage: Message | null;
  unreadCount: number;
}

export interface ReceiptEvent {
  conversationId: string;
  userId: string;
  upToSeq: number;
  at: string;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  name: string;
}

export interface MessageDeletedEvent {
  conversationId: string;
  messageId: string;
  seq: number;
}

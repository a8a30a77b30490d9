import {
  conversationCreateSchema,
  conversationGetSchema,
  conversationListSchema,
  messageDeleteSchema,
  messageEditSchema,
  messageHistorySchema,
  messageSendSchema,
  participantsChangeSchema,
  receiptSchema,
  typingSchema,
} from "@switchboard/protocol";
import type { ChannelService } from "../../core/channels/channel-service.js";
import type { ChatService } from "../../core/chat/chat-service.js";
import type { TypingService } from "../../core/chat/typing-service.js";
import type { Connection } from "../../core/connection.js";
import { joiningOnUse } from "./join-on-use.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/**
 * Conversations, messages, receipts and typing (PROTOCOL.md section 4). A
 * `message:*` request or `typing:start` that succeeds joins its connection to
 * `conversation:{id}` (section 3; see {@link joinOnUse}): each has just checked
 * that the caller is a participant.
 */
export function chatRequests(chat: ChatService, typing: TypingService, channels: ChannelService): RequestHandlers {
  /** Runs the request, then joins the connection to the conversation it used. */
  const using = <P, R>(run: (c: Connection, p: P) => Promise<R>, conversationOf: (p: P, r: R) => string) =>
    joiningOnUse(channels, run, (p, r) => `conversation:${conversationOf(p, r)}`);
  const inPayload = <P extends { conversationId: string }>(p: P) => p.conversationId;
  return {
    "conversation:create": defineRequest(conversationCreateSchema, (c, p) => chat.createConversation(c.caller, p, { connectionId: c.id })),
    "conversation:list": defineRequest(conversationListSchema, (c, p) => chat.listConversations(c.caller, p)),
    "conversation:get": defineRequest(conversationGetSchema, (c, p) => chat.getConversation(c.caller, p.conversationId)),
    "conversation:addParticipants": defineRequest(participantsChangeSchema, (c, p) =>
      chat.addParticipants(c.caller, p.conversationId, p.userIds, { connectionId: c.id }),
    ),
    "conversation:removeParticipants": defineRequest(participantsChangeSchema, (c, p) =>
      chat.removeParticipants(c.caller, p.conversationId, p.userIds, { connectionId: c.id }),
    ),
    "conversation:leave": defineRequest(conversationGetSchema, (c, p) => chat.leave(c.caller, p.conversationId, { connectionId: c.id })),
    "message:send": defineRequest(messageSendSchema, using((c, p) => chat.send(c.caller, p, { connectionId: c.id }), inPayload)),
    "message:history": defineRequest(messageHistorySchema, using((c, p) => chat.history(c.caller, p), inPayload)),
    "message:edit": defineRequest(messageEditSchema, using((c, p) => chat.edit(c.caller, p, { connectionId: c.id }), (_p, r) => r.message.conversationId)),
    "message:delete": defineRequest(messageDeleteSchema, (c, p) => chat.delete(c.caller, p.messageId, { connectionId: c.id })),
    "message:delivered": defineRequest(receiptSchema, using((c, p) => chat.markDelivered(c.caller, p, { connectionId: c.id }), inPayload)),
    "message:read": defineRequest(receiptSchema, using((c, p) => chat.markRead(c.caller, p, { connectionId: c.id }), inPayload)),
    "typing:start": defineRequest(typingSchema, using((c, p) => typing.start(c.caller, p.conversationId, { connectionId: c.id }), inPayload)),
    // Not typing:stop: it answers a typist who has just been removed without asking again (see TypingService.stop).
    "typing:stop": defineRequest(typingSchema, (c, p) => typing.stop(c.caller, p.conversationId, { connectionId: c.id })),
  };
}

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
import type { ChatService } from "../../core/chat/chat-service.js";
import type { TypingService } from "../../core/chat/typing-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/** Conversations, messages, receipts and typing (PROTOCOL.md section 4). */
export function chatRequests(chat: ChatService, typing: TypingService): RequestHandlers {
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
    "message:send": defineRequest(messageSendSchema, (c, p) => chat.send(c.caller, p, { connectionId: c.id })),
    "message:history": defineRequest(messageHistorySchema, (c, p) => chat.history(c.caller, p)),
    "message:edit": defineRequest(messageEditSchema, (c, p) => chat.edit(c.caller, p, { connectionId: c.id })),
    "message:delete": defineRequest(messageDeleteSchema, (c, p) => chat.delete(c.caller, p.messageId, { connectionId: c.id })),
    "message:delivered": defineRequest(receiptSchema, (c, p) => chat.markDelivered(c.caller, p, { connectionId: c.id })),
    "message:read": defineRequest(receiptSchema, (c, p) => chat.markRead(c.caller, p, { connectionId: c.id })),
    "typing:start": defineRequest(typingSchema, (c, p) => typing.start(c.caller, p.conversationId, { connectionId: c.id })),
    "typing:stop": defineRequest(typingSchema, (c, p) => typing.stop(c.caller, p.conversationId, { connectionId: c.id })),
  };
}

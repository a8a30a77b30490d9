import {
  conversationCreateSchema,
  conversationGetSchema,
  conversationListSchema,
  messageHistorySchema,
  messageSendSchema,
  receiptSchema,
} from "@switchboard/protocol";
import type { FastifyInstance } from "fastify";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { ChatService } from "../../core/chat/chat-service.js";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import { numberParam, parseInput } from "./parse.js";
import { callerOf, userRoutes, type UserRequestAudit } from "./user-auth.js";
import { userRoute } from "./user-limits.js";

type IdParams = { Params: { id: string } };

/**
 * Chat over REST (PROTOCOL.md section 8, routes marked "user"): the same
 * ChatService as the Socket.IO requests, so behaviour and errors are identical.
 * Messages sent here reach all of the sender's devices (there is no sending
 * connection to skip). Each route spends the rate limit of its socket request.
 */
export function registerChatRoutes(app: FastifyInstance, chat: ChatService, verifier: TokenVerifier, guard: RequestGuard, audit: UserRequestAudit): void {
  app.register(async (scope) => {
    userRoutes(scope, verifier, audit);

    scope.post("/v1/conversations", userRoute(guard, "conversation:create"), async (request, reply) => {
      const result = await chat.createConversation(callerOf(request), parseInput(conversationCreateSchema, request.body));
      return reply.code(201).send(result);
    });

    scope.get<{ Querystring: Record<string, string> }>("/v1/conversations", userRoute(guard, "conversation:list"), async (request) => {
      const { limit, before, beforeId } = request.query;
      return chat.listConversations(callerOf(request), parseInput(conversationListSchema, { limit: numberParam(limit), before, beforeId }));
    });

    scope.get<IdParams>("/v1/conversations/:id", userRoute(guard, "conversation:get"), async (request) => {
      const { conversationId } = parseInput(conversationGetSchema, { conversationId: request.params.id });
      return chat.getConversation(callerOf(request), conversationId);
    });

    scope.delete<IdParams>("/v1/conversations/:id", userRoute(guard, "conversation:leave"), async (request) => {
      const { conversationId } = parseInput(conversationGetSchema, { conversationId: request.params.id });
      return chat.leave(callerOf(request), conversationId);
    });

    scope.post<IdParams>("/v1/conversations/:id/messages", userRoute(guard, "message:send"), async (request, reply) => {
      const payload = parseInput(messageSendSchema, { ...(request.body as object), conversationId: request.params.id });
      return reply.code(201).send(await chat.send(callerOf(request), payload));
    });

    scope.get<IdParams & { Querystring: Record<string, string> }>("/v1/conversations/:id/messages", userRoute(guard, "message:history"), async (request) => {
      const { beforeSeq, afterSeq, limit } = request.query;
      const payload = parseInput(messageHistorySchema, {
        conversationId: request.params.id,
        beforeSeq: numberParam(beforeSeq),
        afterSeq: numberParam(afterSeq),
        limit: numberParam(limit),
      });
      return chat.history(callerOf(request), payload);
    });

    scope.post<IdParams>("/v1/conversations/:id/read", userRoute(guard, "message:read"), async (request) => {
      const payload = parseInput(receiptSchema, { ...(request.body as object), conversationId: request.params.id });
      return chat.markRead(callerOf(request), payload);
    });
  });
}

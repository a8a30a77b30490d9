import { notificationListSchema, notificationReadSchema } from "@switchboard/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { NotificationService } from "../../core/notifications/notification-service.js";
import { numberParam, parseInput } from "./parse.js";
import { callerOf, userAuth } from "./user-auth.js";

/** The browser's PushSubscription.toJSON(). */
const pushSubscriptionSchema = z.object({
  endpoint: z.url().max(2000),
  keys: z.object({ p256dh: z.string().min(1).max(200), auth: z.string().min(1).max(100) }),
});

/**
 * Notification routes for end users (user token): `GET /v1/notifications`,
 * `PUT /v1/notifications/{id}/read`, `POST /v1/push-subscriptions`.
 */
export function registerNotificationUserRoutes(app: FastifyInstance, notifications: NotificationService, verifier: TokenVerifier): void {
  app.register(async (scope) => {
    scope.addHook("preHandler", userAuth(verifier));

    scope.get<{ Querystring: Record<string, string> }>("/v1/notifications", async (request) => {
      const { unreadOnly, before, beforeId, limit } = request.query;
      const query = parseInput(notificationListSchema, {
        unreadOnly: unreadOnly === undefined ? undefined : unreadOnly === "true" ? true : unreadOnly === "false" ? false : unreadOnly,
        before,
        beforeId,
        limit: numberParam(limit),
      });
      return notifications.list(callerOf(request), query);
    });

    scope.put<{ Params: { id: string } }>("/v1/notifications/:id/read", async (request) => {
      const { id } = parseInput(notificationReadSchema, { id: request.params.id });
      return notifications.read(callerOf(request), id);
    });

    scope.post("/v1/push-subscriptions", async (request, reply) => {
      await notifications.addPushSubscription(callerOf(request), parseInput(pushSubscriptionSchema, request.body));
      return reply.code(201).send({ ok: true });
    });
  });
}

import { ECDH } from "node:crypto";
import { notificationListSchema, notificationReadSchema } from "@switchboard/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { NotificationService } from "../../core/notifications/notification-service.js";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import { numberParam, parseInput } from "./parse.js";
import { callerOf, userRoutes, type UserRequestAudit } from "./user-auth.js";
import { userRoute } from "./user-limits.js";

/** Bytes of a base64url (or base64) key, or -1 when it is not one. */
function keyBytes(key: string): number {
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(key)) return -1;
  return Buffer.from(key, "base64url").length;
}

/**
 * Whether a key is an uncompressed point of the P-256 curve: 65 bytes starting
 * with 4 are not all on it, and a point off the curve fails every push
 * (Node refuses it when the push is encrypted), so it is refused when stored.
 */
function isP256Point(key: string): boolean {
  if (keyBytes(key) !== 65) return false;
  const point = Buffer.from(key, "base64url");
  if (point[0] !== 4) return false;
  try {
    ECDH.convertKey(point, "prime256v1", undefined, undefined, "uncompressed");
    return true;
  } catch {
    return false;
  }
}

/** Push services are HTTPS; plain HTTP only to this machine (a push service in a test). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The browser's PushSubscription.toJSON(): an HTTPS endpoint, the client's
 * P-256 public key (65 bytes, uncompressed) and a 16-byte auth secret, as the
 * Web Push encryption (RFC 8291) needs them. Anything else could never be
 * pushed to, so it is refused rather than stored.
 */
const pushSubscriptionSchema = z.object({
  endpoint: z
    .url()
    .max(2000)
    .refine((endpoint) => {
      const { protocol, hostname } = new URL(endpoint);
      return protocol === "https:" || (protocol === "http:" && LOOPBACK.has(hostname));
    }, "must be an https URL"),
  keys: z.object({
    p256dh: z.string().max(200).refine(isP256Point, "must be a base64url P-256 public key (65 bytes)"),
    auth: z.string().max(100).refine((key) => keyBytes(key) === 16, "must be a base64url 16-byte secret"),
  }),
});

/** `DELETE /v1/push-subscriptions { endpoint }`: any endpoint string names at most one of the caller's rows. */
const pushUnsubscribeSchema = z.object({ endpoint: z.string().min(1).max(2000) });

/**
 * Notification routes for end users (user token): `GET /v1/notifications`,
 * `PUT /v1/notifications/{id}/read`, `POST /v1/push-subscriptions`,
 * `DELETE /v1/push-subscriptions`.
 */
export function registerNotificationUserRoutes(app: FastifyInstance, notifications: NotificationService, verifier: TokenVerifier, guard: RequestGuard, audit: UserRequestAudit): void {
  app.register(async (scope) => {
    userRoutes(scope, verifier, audit);

    scope.get<{ Querystring: Record<string, string> }>("/v1/notifications", userRoute(guard, "notification:list"), async (request) => {
      const { unreadOnly, before, beforeId, limit } = request.query;
      const query = parseInput(notificationListSchema, {
        unreadOnly: unreadOnly === undefined ? undefined : unreadOnly === "true" ? true : unreadOnly === "false" ? false : unreadOnly,
        before,
        beforeId,
        limit: numberParam(limit),
      });
      return notifications.list(callerOf(request), query);
    });

    scope.put<{ Params: { id: string } }>("/v1/notifications/:id/read", userRoute(guard, "notification:read"), async (request) => {
      const { id } = parseInput(notificationReadSchema, { id: request.params.id });
      return notifications.read(callerOf(request), id);
    });

    scope.post("/v1/push-subscriptions", userRoute(guard, "push:subscribe"), async (request, reply) => {
      await notifications.addPushSubscription(callerOf(request), parseInput(pushSubscriptionSchema, request.body));
      return reply.code(201).send({ ok: true });
    });

    scope.delete("/v1/push-subscriptions", userRoute(guard, "push:unsubscribe"), async (request, reply) => {
      const { endpoint } = parseInput(pushUnsubscribeSchema, request.body);
      await notifications.removePushSubscription(callerOf(request), endpoint);
      return reply.code(204).send();
    });
  });
}

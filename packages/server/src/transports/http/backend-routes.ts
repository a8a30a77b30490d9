import type { FastifyInstance } from "fastify";
import type { EventsService } from "../../core/events/events-service.js";
import { AppError } from "../../core/errors.js";
import type { NotificationService } from "../../core/notifications/notification-service.js";
import type { WebhookService } from "../../core/webhooks/webhook-service.js";
import type { AuditEntry } from "../../ports/audit-log.js";
import { useApiKeyAuth, type ApiKeyVerifier } from "./api-key-auth.js";
import { numberParam } from "./parse.js";

export interface BackendRoutesDeps {
  /** Records other backend actions (notification creation). */
  recordAudit?: (entry: Omit<AuditEntry, "at">) => void;
  events: EventsService;
  notifications: NotificationService;
  webhooks: WebhookService;
  /** The API keys (configured and created), audited on every use. */
  apiKeys: ApiKeyVerifier;
}

/**
 * The app backend's API (PROTOCOL.md section 8), authenticated by API key; the
 * key decides the tenant, so a key can never reach another tenant's channels
 * or users:
 * - `POST /v1/events { channel | channels, event, data }` → 202 `{ channels, event }`
 * - `POST /v1/notifications { userIds | topic, type, title, body, priority, data?, expiresAt? }` → 201 `{ created, notificationIds }`
 * - `GET /v1/webhooks/deliveries?limit=` → the tenant's webhook delivery log
 */
export function registerBackendRoutes(app: FastifyInstance, deps: BackendRoutesDeps): void {
  void app.register(async (scope) => {
    useApiKeyAuth(scope, deps.apiKeys);

    scope.post("/v1/events", async (request, reply) => {
      const result = await deps.events.publish(request.apiTenantId, request.body);
      return reply.code(202).send(result);
    });

    scope.post("/v1/notifications", async (request, reply) => {
      const result = await deps.notifications.create(request.apiTenantId, request.body);
      deps.recordAudit?.({ tenantId: request.apiTenantId, actor: "api-key", actorKind: "api_key", action: "notification.create", result: "ok", detail: `${result.created} recipients` });
      return reply.code(201).send(result);
    });

    scope.get<{ Querystring: Record<string, string> }>("/v1/webhooks/deliveries", async (request) => {
      const limit = numberParam(request.query.limit) ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AppError("bad_request", "limit must be 1-500");
      const deliveries = await deps.webhooks.log(request.apiTenantId, limit);
      // The log is for operations: payloads stay out of it (they may carry message text).
      return { deliveries: deliveries.map(({ payload: _payload, ...rest }) => rest) };
    });
  });
}

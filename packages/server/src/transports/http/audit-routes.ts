import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { AuditService } from "../../core/audit/audit-service.js";
import { numberParam, parseInput } from "./parse.js";
import { callerOf, userRoutes } from "./user-auth.js";

const auditQuerySchema = z.object({
  action: z.string().max(64).optional(),
  actor: z.string().max(128).optional(),
  result: z.enum(["ok", "denied", "error"]).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

/** `GET /v1/audit?action&actor&result&from&to&limit` (user token with the `admin` role): the tenant's audit trail, newest first. */
export function registerAuditRoutes(app: FastifyInstance, audit: AuditService, verifier: TokenVerifier): void {
  app.register(async (scope) => {
    userRoutes(scope, verifier, audit);
    scope.get<{ Querystring: Record<string, string> }>("/v1/audit", { config: { requestEvent: "audit:query" } }, async (request) => {
      const { limit, ...rest } = request.query;
      const query = parseInput(auditQuerySchema, { ...rest, limit: numberParam(limit) });
      return { entries: await audit.query(callerOf(request), { ...query, limit: query.limit ?? 100 }) };
    });
  });
}

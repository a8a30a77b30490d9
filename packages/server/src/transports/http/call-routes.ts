import { callHistorySchema } from "@switchboard/protocol";
import type { FastifyInstance } from "fastify";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { CallService } from "../../core/calls/call-service.js";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import { numberParam, parseInput } from "./parse.js";
import { callerOf, userRoutes, type UserRequestAudit } from "./user-auth.js";
import { userRoute } from "./user-limits.js";

/** `GET /v1/calls?limit&before` (user token): the caller's call history, newest first. */
export function registerCallRoutes(app: FastifyInstance, calls: CallService, verifier: TokenVerifier, guard: RequestGuard, audit: UserRequestAudit): void {
  app.register(async (scope) => {
    userRoutes(scope, verifier, audit);
    scope.get<{ Querystring: Record<string, string> }>("/v1/calls", userRoute(guard, "call:history"), async (request) => {
      const query = parseInput(callHistorySchema, { limit: numberParam(request.query.limit), before: request.query.before, beforeId: request.query.beforeId });
      return { calls: await calls.history(callerOf(request), query) };
    });
  });
}

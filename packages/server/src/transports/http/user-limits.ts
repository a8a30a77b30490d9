import type { FastifyRequest } from "fastify";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import { callerOf } from "./user-auth.js";

/**
 * A user-token route's options for the socket request `event` it stands for:
 * it is audited as `event` (`config.requestEvent`, read by `userRoutes`), and
 * its preHandler counts the request against the caller's rate limit of
 * `event`'s family, the budget the same request over a socket uses
 * (PROTOCOL.md section 2, "Limits"); over it, 429 `rate_limited` with
 * `details.retryAfterMs`. The preHandler runs after `userAuth`, so only
 * authenticated callers spend a budget.
 */
export function userRoute(guard: RequestGuard, event: string) {
  return {
    preHandler: async (request: FastifyRequest): Promise<void> => {
      await guard.checkCaller(callerOf(request), event);
    },
    config: { requestEvent: event },
  };
}

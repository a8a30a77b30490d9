import type { FastifyRequest } from "fastify";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import { callerOf } from "./user-auth.js";

/**
 * Route preHandler for a user-token route: the request counts against the
 * caller's rate limit of `event`'s family, the budget the same request over a
 * socket uses (PROTOCOL.md section 2, "Limits"); over it, 429 `rate_limited`
 * with `details.retryAfterMs`. Runs after {@link userAuth}, so only
 * authenticated callers spend a budget.
 */
export function limitedAs(guard: RequestGuard, event: string) {
  return async (request: FastifyRequest): Promise<void> => {
    await guard.checkCaller(callerOf(request), event);
  };
}

/** A user-token route's options: it spends `event`'s rate limit ({@link limitedAs}) and is audited as `event`. */
export function userRoute(guard: RequestGuard, event: string) {
  return { preHandler: limitedAs(guard, event), config: { requestEvent: event } };
}

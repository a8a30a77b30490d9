import type { FastifyRequest } from "fastify";
import type { Caller } from "../../auth/caller.js";
import { TokenError, type TokenVerifier } from "../../auth/token-verifier.js";
import { AppError } from "../../core/errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the user-token preHandler on routes marked (user) in PROTOCOL.md section 8. */
    caller?: Caller;
  }
}

/**
 * preHandler for routes called by end users: `Authorization: Bearer <user JWT>`,
 * verified exactly like a Socket.IO handshake. 401 `unauthorized` otherwise,
 * with the token error code (`token_missing`, `token_invalid`, `token_expired`)
 * in `details.reason`.
 */
export function userAuth(verifier: TokenVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const token = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    try {
      request.caller = await verifier.verify(token);
    } catch (err) {
      const reason = err instanceof TokenError ? err.code : "token_invalid";
      throw new AppError("unauthorized", "a valid user token is required", { reason });
    }
  };
}

/** The caller of a route guarded by {@link userAuth}. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError("unauthorized", "a valid user token is required");
  return request.caller;
}

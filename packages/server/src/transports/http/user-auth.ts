import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Caller } from "../../auth/caller.js";
import { TokenError, type TokenVerifier } from "../../auth/token-verifier.js";
import { AppError } from "../../core/errors.js";
import { codeForStatus } from "./http-errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the user-token preHandler on routes marked (user) in PROTOCOL.md section 8. */
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** The socket request a user-token route stands for: the rate limit it spends and its action in the audit log. */
    requestEvent?: string;
  }
}

/** Where {@link userRoutes} reports each answer (the audit trail). */
export interface UserRequestAudit {
  httpRequest(caller: Caller | undefined, action: string, target: string | undefined, code: string | undefined): void;
}

/**
 * Makes a fastify scope one of user-token routes: the token is checked
 * ({@link userAuth}) and every answer is reported to the audit trail, under the
 * route's `requestEvent` (or `METHOD /path` for a route without one), with the
 * id in its path (or the channel of a Pusher auth) as target. The audit keeps
 * what it keeps of socket requests: audited families, and every refusal,
 * a refused token included.
 */
export function userRoutes(scope: FastifyInstance, verifier: TokenVerifier, audit: UserRequestAudit): void {
  scope.addHook("preHandler", userAuth(verifier));
  scope.addHook("onResponse", async (request, reply) => {
    const { config, url } = request.routeOptions;
    const action = config.requestEvent ?? `${request.method} ${url ?? "?"}`;
    const status = reply.statusCode;
    audit.httpRequest(request.caller, action, targetOf(request), status >= 400 ? codeForStatus(status) : undefined);
  });
}

function targetOf(request: FastifyRequest): string | undefined {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (typeof id === "string") return id;
  const channel = (request.body as { channel_name?: unknown } | undefined)?.channel_name;
  return typeof channel === "string" ? channel : undefined;
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

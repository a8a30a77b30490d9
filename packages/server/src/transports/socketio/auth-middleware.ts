import type { ConnectErrorData } from "@switchboard/protocol";
import type { ExtendedError, Socket } from "socket.io";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import { TokenError, type TokenVerifier } from "../../auth/token-verifier.js";
import { handshakeToken } from "./handshake-token.js";

/** What the server keeps on `socket.data`. */
export interface SocketData {
  caller: Caller;
}

/**
 * Verifies the handshake token before a socket connects. It also runs when
 * Socket.IO recovers a session (`skipMiddlewares: false`): a recovered session
 * keeps its rooms only if the fresh token names the same user and tenant.
 */
export function authMiddleware(
  verifier: TokenVerifier,
  logger: Logger,
  admits: (caller: Caller) => boolean = () => true,
  /** Refused handshakes, for the audit trail (the token's tenant is unknown when it does not verify). */
  onRefused?: (code: string, caller?: Caller) => void,
) {
  return async (socket: Socket, next: (err?: ExtendedError) => void): Promise<void> => {
    try {
      const caller = await verifier.verify(handshakeToken(socket.handshake));
      const previous = (socket.data as Partial<SocketData>).caller;
      if (socket.recovered && previous && (previous.userId !== caller.userId || previous.tenantId !== caller.tenantId)) {
        throw new TokenError("token_invalid", "token does not match the recovered session");
      }
      if (!admits(caller)) {
        onRefused?.("too_many_connections", caller);
        // Not a token problem: refused as rate_limited so clients back off instead of asking for a new token.
        const refusal = new Error("rate_limited") as ExtendedError & { data: { code: string } };
        refusal.data = { code: "too_many_connections" };
        return next(refusal);
      }
      (socket.data as SocketData).caller = caller;
      next();
    } catch (err) {
      const code = err instanceof TokenError ? err.code : "token_invalid";
      if (!(err instanceof TokenError)) logger.error({ err }, "token verification failed unexpectedly");
      logger.debug({ code, address: socket.handshake.address }, "handshake refused");
      onRefused?.(code);
      const refusal = new Error("unauthorized") as ExtendedError & { data: ConnectErrorData };
      refusal.data = { code };
      next(refusal);
    }
  };
}

import type { Socket } from "socket.io";

type Handshake = Socket["handshake"];

/**
 * The token of a handshake, from (in order) `auth.token`, an
 * `Authorization: Bearer` header, or the `?token=` query parameter for clients
 * that can set neither.
 */
export function handshakeToken(handshake: Handshake): string | undefined {
  const fromAuth = (handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof fromAuth === "string" && fromAuth) return fromAuth;
  const header = handshake.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match) return match[1];
  }
  const fromQuery = handshake.query.token;
  if (typeof fromQuery === "string" && fromQuery) return fromQuery;
  return undefined;
}

import type { DemoUser, DemoUsersResponse, DevTokenResponse } from "@switchboard/protocol";

/** Who is signed in in this tab. Kept in sessionStorage so two tabs can be two people. */
export interface Session {
  token: string;
  userId: string;
  tenantId: string;
  name: string;
  /** Signed by the server's `/dev/token`, so it can be renewed there. */
  demo?: boolean;
}

const KEY = "switchboard-demo-session";

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** The demo users, or `undefined` when the server has no dev sign-in (it runs with a configured secret). */
export async function fetchDemoUsers(): Promise<DemoUsersResponse | undefined> {
  const res = await fetch("/dev/users");
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /dev/users answered ${res.status}`);
  return (await res.json()) as DemoUsersResponse;
}

/** Signs in as a demo user through the development token route. */
export async function signInAsDemoUser(userId: string): Promise<Session> {
  const res = await fetch("/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) });
  const body = (await res.json()) as DevTokenResponse | { error: { message: string } };
  if (!res.ok || "error" in body) throw new Error("error" in body ? body.error.message : `POST /dev/token answered ${res.status}`);
  return { token: body.token, userId: body.user.userId, tenantId: body.tenantId, name: body.user.name, demo: true };
}

/**
 * A session from a pasted JWT. The claims are only read for display; the server
 * verifies the token when the socket connects.
 */
export function sessionFromToken(token: string): Session {
  const part = token.trim().split(".")[1];
  if (!part) throw new Error("that does not look like a JWT (header.payload.signature)");
  let claims: { sub?: unknown; tenant?: unknown; name?: unknown };
  try {
    claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as typeof claims;
  } catch {
    throw new Error("the token's payload is not readable JSON");
  }
  if (typeof claims.sub !== "string") throw new Error("the token has no `sub` claim");
  const tenantId = typeof claims.tenant === "string" ? claims.tenant : "default";
  return { token: token.trim(), userId: claims.sub, tenantId, name: typeof claims.name === "string" ? claims.name : claims.sub };
}

export type { DemoUser };

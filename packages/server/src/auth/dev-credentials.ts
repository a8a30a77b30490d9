import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SignJWT } from "jose";

/**
 * Development secret for a server started without JWT_SECRET or JWKS_URL.
 * Kept in DATA_DIR so tokens survive a restart; regenerated when missing.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<string> {
  if (dataDir === ":memory:") return randomBytes(32).toString("base64url");
  const file = join(dataDir, "dev-jwt-secret");
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const secret = randomBytes(32).toString("base64url");
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export interface TokenClaims {
  sub: string;
  tenant?: string;
  name?: string;
  roles?: string[];
}

/**
 * Signs an HS256 user token. For development and tests; production tokens come
 * from the app's own auth service.
 *
 * @example
 * const token = await signUserToken(secret, { sub: "alice", tenant: "acme", roles: ["provider"] });
 */
export async function signUserToken(secret: string, claims: TokenClaims, expiresIn: string | number = "24h"): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

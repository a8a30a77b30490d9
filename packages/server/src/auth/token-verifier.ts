import { webcrypto } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTClaimVerificationOptions, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { ID_PATTERN, TENANT_PATTERN, type AuthErrorCode } from "@switchboard/protocol";
import type { Caller } from "./caller.js";
import { verifyHs256 } from "./hs256.js";

/** Why a token was refused; `code` is what `connect_error` carries in `err.data.code`. */
export class TokenError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

export interface TokenVerifierOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS endpoint for RS256 / ES256 keys. */
  jwksUrl?: string;
  /** Or a key resolver (tests, library users holding keys in memory). */
  jwks?: JWTVerifyGetKey;
  issuer?: string;
  audience?: string;
  /** Refuse tokens without `exp` (default true). */
  requireExp?: boolean;
}

/** Verifies a user token and turns its claims into a {@link Caller}. */
export interface TokenVerifier {
  verify(token: string | undefined): Promise<Caller>;
}

const ASYMMETRIC_ALGS = ["RS256", "ES256"];

/**
 * Builds a verifier with the algorithm pinned per key source: HS256 only against
 * the shared secret, RS256/ES256 only against the JWKS. `alg: none` and
 * key-confusion tokens (an RS256 public key used as an HS256 secret) therefore
 * never verify.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
  // Imported once: given raw bytes, jose imports the key again for every token, which was
  // about a quarter of the token check's cost in a profile of a connection storm.
  let secretKey: Promise<webcrypto.CryptoKey> | undefined;
  const jwks = options.jwks ?? (options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined);
  if (!secret && !jwks) throw new Error("token verifier needs a secret or a JWKS");
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ASYMMETRIC_ALGS : [])];
  const requireExp = options.requireExp ?? true;
  const claims: JWTClaimVerificationOptions = {
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: requireExp ? ["exp", "sub"] : ["sub"],
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) {
      // A failed import is not kept: the next token tries again.
      secretKey ??= webcrypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]).catch((err: unknown) => {
        secretKey = undefined;
        throw err;
      });
      return secretKey;
    }
    if (jwks && ASYMMETRIC_ALGS.includes(header.alg)) return jwks(header, token);
    throw new TokenError("token_invalid", `algorithm ${header.alg} is not accepted`);
  };

  return {
    async verify(token) {
      if (!token) throw new TokenError("token_missing", "no token was sent");
      let payload: JWTPayload;
      try {
        // Plain HS256 tokens (all of a shared-secret deployment's) skip WebCrypto's thread-pool job.
        const fast = secret && verifyHs256(token, secret, claims);
        payload = fast || (await jwtVerify(token, getKey, { algorithms, ...claims })).payload;
      } catch (err) {
        if (err instanceof TokenError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new TokenError("token_expired", "token has expired");
        throw new TokenError("token_invalid", describe(err));
      }
      return callerFromClaims(payload);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JOSEError) return `token rejected: ${err.code}`;
  return "token rejected";
}

function callerFromClaims(payload: JWTPayload): Caller {
  const { sub, tenant, name, roles, exp } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== "string" || !ID_PATTERN.test(sub)) throw new TokenError("token_invalid", "claim sub is not a valid user id");
  const tenantId = tenant === undefined ? "default" : tenant;
  if (typeof tenantId !== "string" || !TENANT_PATTERN.test(tenantId)) throw new TokenError("token_invalid", "claim tenant is not a valid tenant id");
  if (name !== undefined && (typeof name !== "string" || name.length > 200)) throw new TokenError("token_invalid", "claim name must be a string of at most 200 characters");
  const roleList = roles === undefined ? [] : roles;
  if (!Array.isArray(roleList) || roleList.length > 50 || !roleList.every((r) => typeof r === "string" && ID_PATTERN.test(r))) {
    throw new TokenError("token_invalid", "claim roles must be an array of role names");
  }
  return { userId: sub, tenantId, name: typeof name === "string" && name.trim() ? name.trim() : sub, roles: roleList as string[], exp };
}

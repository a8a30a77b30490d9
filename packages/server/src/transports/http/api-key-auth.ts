import { hash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiKey } from "../../config/config.js";
import type { ApiKeyStore } from "../../ports/api-key-store.js";
import { AppError } from "../../core/errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The tenant whose API key authenticated this request (routes behind {@link useApiKeyAuth} only). */
    apiTenantId: string;
  }
}

/** Told of every API-key check (the audit trail): the tenant, or undefined when refused. */
export type ApiKeyAudit = (tenantId: string | undefined, request: { method: string; url: string }) => void;

/** `WWW-Authenticate` for a request without a key, and for one with a wrong key. */
const CHALLENGE = { missing: 'Bearer realm="switchboard"', invalid: 'Bearer realm="switchboard", error="invalid_token"' } as const;

/** A refused API key: the 401 error and the challenge to send with it. */
export class ApiKeyRefusal extends AppError {
  constructor(readonly challenge: string, message: string) {
    super("unauthorized", message);
  }
}

/**
 * Checks `Authorization: Bearer <key>` against the configured keys and the
 * keys created with `switchboard keys create`, for every route that takes an
 * API key (PROTOCOL.md section 8). Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, and every configured key is compared, so the time taken
 * says nothing about how much of a key was right or which key was near.
 */
export class ApiKeyVerifier {
  private readonly digests: { tenantId: string; digest: Buffer }[];

  constructor(keys: readonly ApiKey[], private readonly stored?: ApiKeyStore, private readonly audit?: ApiKeyAudit) {
    this.digests = keys.map(({ tenantId, key }) => ({ tenantId, digest: sha256(key) }));
  }

  /**
   * The tenant whose key the header carries; every check is audited.
   * @throws ApiKeyRefusal (401 `unauthorized`) for a missing or wrong key.
   */
  async tenantOf(authorization: string | undefined, request: { method: string; url: string }): Promise<string> {
    const presented = bearer(authorization);
    if (presented === undefined) throw new ApiKeyRefusal(CHALLENGE.missing, "missing API key: send Authorization: Bearer <key>");
    const digest = sha256(presented);
    let tenantId: string | undefined;
    for (const candidate of this.digests) {
      if (timingSafeEqual(candidate.digest, digest) && tenantId === undefined) tenantId = candidate.tenantId;
    }
    // Keys created with `switchboard keys create`: looked up by digest (a lookup by hash reveals nothing about the key).
    if (tenantId === undefined && this.stored) tenantId = await this.stored.tenantOf(digest.toString("hex"));
    this.audit?.(tenantId, request);
    if (tenantId === undefined) throw new ApiKeyRefusal(CHALLENGE.invalid, "invalid API key");
    return tenantId;
  }
}

/**
 * A fastify preHandler for the server-side HTTP API: sets `request.apiTenantId`
 * from the request's API key (see {@link ApiKeyVerifier}). Missing or wrong
 * key: 401 `unauthorized` with a `WWW-Authenticate` challenge.
 */
export function apiKeyAuth(verifier: ApiKeyVerifier): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    try {
      request.apiTenantId = await verifier.tenantOf(request.headers.authorization, request);
    } catch (err) {
      if (err instanceof ApiKeyRefusal) reply.header("www-authenticate", err.challenge);
      throw err;
    }
  };
}

/** Authenticates every route of an (encapsulated) fastify scope with an API key. */
export function useApiKeyAuth(scope: FastifyInstance, verifier: ApiKeyVerifier): void {
  scope.decorateRequest("apiTenantId", "");
  scope.addHook("preHandler", apiKeyAuth(verifier));
}

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** One-shot `crypto.hash`: no Hash object per request (cold, the object cost more than the digest). */
function sha256(value: string): Buffer {
  return hash("sha256", value, "buffer");
}

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

/**
 * A fastify preHandler for the server-side HTTP API (PROTOCOL.md section 8):
 * reads `Authorization: Bearer <key>`, finds the configured key it matches and
 * sets `request.apiTenantId`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, and every configured key is compared, so the time taken
 * says nothing about how much of a key was right or which key was near.
 * Missing or wrong key: 401 `unauthorized`.
 */
/** Told of every API-key check (the audit trail): the tenant, or undefined when refused. */
export type ApiKeyAudit = (tenantId: string | undefined, request: FastifyRequest) => void;

export function apiKeyAuth(keys: readonly ApiKey[], stored?: ApiKeyStore, audit?: ApiKeyAudit): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const digests = keys.map(({ tenantId, key }) => ({ tenantId, digest: sha256(key) }));
  return async (request, reply) => {
    const presented = bearer(request.headers.authorization);
    if (presented === undefined) {
      reply.header("www-authenticate", 'Bearer realm="switchboard"');
      throw new AppError("unauthorized", "missing API key: send Authorization: Bearer <key>");
    }
    const digest = sha256(presented);
    let tenantId: string | undefined;
    for (const candidate of digests) {
      if (timingSafeEqual(candidate.digest, digest) && tenantId === undefined) tenantId = candidate.tenantId;
    }
    // Keys created with `switchboard keys create`: looked up by digest (a lookup by hash reveals nothing about the key).
    if (tenantId === undefined && stored) tenantId = await stored.tenantOf(digest.toString("hex"));
    audit?.(tenantId, request);
    if (tenantId === undefined) {
      reply.header("www-authenticate", 'Bearer realm="switchboard", error="invalid_token"');
      throw new AppError("unauthorized", "invalid API key");
    }
    request.apiTenantId = tenantId;
  };
}

/** Authenticates every route of an (encapsulated) fastify scope with an API key. */
export function useApiKeyAuth(scope: FastifyInstance, keys: readonly ApiKey[], stored?: ApiKeyStore, audit?: ApiKeyAudit): void {
  scope.decorateRequest("apiTenantId", "");
  scope.addHook("preHandler", apiKeyAuth(keys, stored, audit));
}

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** One-shot `crypto.hash`: no Hash object per request (cold, the object cost more than the digest). */
function sha256(value: string): Buffer {
  return hash("sha256", value, "buffer");
}

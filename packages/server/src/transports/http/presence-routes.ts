import { PRESENCE_MAX_USER_IDS, userIdSchema, type PresenceInfo } from "@switchboard/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { AppError, issueDetails } from "../../core/errors.js";
import type { PresenceService } from "../../core/presence/presence-service.js";
import type { UserOnline } from "../../core/presence/presence-service.js";
import { useApiKeyAuth, type ApiKeyVerifier } from "./api-key-auth.js";

export interface PresenceRoutesDeps {
  presence: PresenceService;
  /** The API keys (configured and created), audited on every use. */
  apiKeys: ApiKeyVerifier;
}

/** `?userIds=a,b` (or repeated `userIds=`): 1..500 valid user ids. */
const presenceQuerySchema = z.object({
  userIds: z
    .union([z.string(), z.array(z.string())], { error: "is required: a comma-separated list of user ids" })
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(",")).map((id) => id.trim()).filter(Boolean))
    .pipe(z.array(userIdSchema).min(1, "must name at least one user id").max(PRESENCE_MAX_USER_IDS, `must name at most ${PRESENCE_MAX_USER_IDS} user ids`)),
});

const userParamsSchema = z.object({ id: userIdSchema });

/**
 * `GET /v1/presence?userIds=` and `GET /v1/users/{id}/online` (PROTOCOL.md
 * section 8), for the app's backend, authenticated by API key. The key's tenant
 * is the only tenant these routes ever read.
 */
export function registerPresenceRoutes(app: FastifyInstance, deps: PresenceRoutesDeps): void {
  void app.register(async (scope) => {
    useApiKeyAuth(scope, deps.apiKeys);

    scope.get("/v1/presence", async (request) => {
      const { userIds } = parse(presenceQuerySchema, request.query, "query");
      return { presence: await deps.presence.get(request.apiTenantId, userIds) };
    });

    scope.get("/v1/users/:id/online", async (request): Promise<UserOnline> => {
      const { id } = parse(userParamsSchema, request.params, "path");
      return deps.presence.online(request.apiTenantId, id);
    });
  });
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = issueDetails(parsed.error);
  throw new AppError("bad_request", `invalid ${where}: ${details.map((d) => `${d.path || where} ${d.message}`).join("; ")}`, details);
}

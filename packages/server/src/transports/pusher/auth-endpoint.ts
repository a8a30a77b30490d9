import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { PusherApp } from "../../config/config.js";
import type { ChannelAuthorizer } from "../../core/channels/channel-authorizer.js";
import { AppError } from "../../core/errors.js";
import { parseInput } from "../http/parse.js";
import { callerOf, userRoutes, type UserRequestAudit } from "../http/user-auth.js";
import { isValidSocketId, mapPusherChannel } from "./channel-names.js";
import type { PusherApps } from "./pusher-apps.js";
import { channelAuth } from "./signatures.js";

const authRequestSchema = z.object({
  socket_id: z.string().refine(isValidSocketId, "must be digits.digits"),
  channel_name: z.string().min(1).max(200),
  /** Needed only when the caller's tenant has several Pusher apps. */
  app_key: z.string().max(128).optional(),
});

export interface PusherAuthEndpointDeps {
  apps: PusherApps;
  authorizer: ChannelAuthorizer;
  verifier: TokenVerifier;
  /** The audit trail: refused authorizations are recorded as `pusher:auth`. */
  audit: UserRequestAudit;
}

/**
 * `POST /pusher/auth`, for apps without an auth endpoint of their own: signs a
 * private or presence subscription for a user holding a Switchboard JWT
 * (`Authorization: Bearer`), if that user may join the mapped channel under
 * the same rules as a Socket.IO `room:join`. Takes pusher-js's form body
 * (`socket_id`, `channel_name`) or JSON, and answers like the `pusher`
 * library's `authorizeChannel`: `{ auth, channel_data? }`; presence members
 * are `{ user_id: sub, user_info: { name } }`.
 */
export function registerPusherAuthEndpoint(http: FastifyInstance, deps: PusherAuthEndpointDeps): void {
  http.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    userRoutes(scope, deps.verifier, deps.audit);

    scope.post("/pusher/auth", { config: { requestEvent: "pusher:auth" } }, async (request) => {
      const caller = callerOf(request);
      const { socket_id: socketId, channel_name: name, app_key: appKey } = parseInput(authRequestSchema, request.body);
      const mapped = mapPusherChannel(name);
      if (!mapped.ok) throw new AppError("bad_request", `invalid channel: ${mapped.reason}`);
      const { channel, type } = mapped.channel;
      if (type !== "private" && type !== "presence") throw new AppError("bad_request", "only private- and presence- channels are authorized");
      const app = appFor(deps.apps, caller.tenantId, appKey);
      await deps.authorizer.authorize(caller, channel);
      if (type === "private") {
        // The signature covers the user too (pusher-js sends `channel_data` back with the subscribe), so the
        // server knows whose subscription it is: removed from a conversation, they are taken off its channel.
        const boundTo = JSON.stringify({ user_id: caller.userId });
        return { auth: channelAuth(app, socketId, name, boundTo), channel_data: boundTo };
      }
      const channelData = JSON.stringify({ user_id: caller.userId, user_info: { name: caller.name } });
      return { auth: channelAuth(app, socketId, name, channelData), channel_data: channelData };
    });
  });
}

/** The Pusher app the signature is for: the tenant's only app, or the one named by `app_key`. */
function appFor(apps: PusherApps, tenantId: string, appKey: string | undefined): PusherApp {
  const own = apps.ofTenant(tenantId);
  const app = appKey === undefined ? (own.length === 1 ? own[0] : undefined) : own.find((a) => a.key === appKey);
  if (app) return app;
  if (own.length === 0 || appKey !== undefined) throw new AppError("forbidden", "no Pusher app of your tenant matches");
  throw new AppError("bad_request", "your tenant has several Pusher apps: send app_key");
}

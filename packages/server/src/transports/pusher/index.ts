import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { UserRequestAudit } from "../http/user-auth.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { Config } from "../../config/config.js";
import type { ChannelAuthorizer } from "../../core/channels/channel-authorizer.js";
import type { ChannelService } from "../../core/channels/channel-service.js";
import { LeaseKeeper } from "../../core/lease-keeper.js";
import type { Metrics } from "../../metrics.js";
import type { Broker } from "../../ports/broker.js";
import type { ChannelOccupancy } from "../../ports/channel-occupancy.js";
import type { UpgradeRouter } from "../upgrade-router.js";
import { registerPusherAuthEndpoint } from "./auth-endpoint.js";
import { isPublicPusherId, PUSHER_KIND, presenceNameOf } from "./channel-names.js";
import { registerPusherHttpApi } from "./http-api.js";
import { PusherApps } from "./pusher-apps.js";
import { PusherTransport, type PusherPresence } from "./pusher-transport.js";
import { PusherWebhooks } from "./webhooks.js";
import type { WriteCoalescer } from "../write-coalescer.js";

export interface PusherDeps {
  config: Config;
  http: FastifyInstance;
  channels: ChannelService;
  authorizer: ChannelAuthorizer;
  occupancy: ChannelOccupancy;
  broker: Broker;
  verifier: TokenVerifier;
  /** The audit trail, for `POST /pusher/auth`. */
  audit: UserRequestAudit;
  /** Routes `/app/{key}` upgrades here (after the Origin allowlist). */
  router: UpgradeRouter;
  metrics: Metrics;
  logger: Logger;
  knownEvents: ReadonlySet<string>;
  /** Batches each socket's frames per event-loop turn into one write. */
  coalescer: WriteCoalescer;
  /** Presence, told about connections signed in with `pusher:signin`. */
  presence?: PusherPresence;
}

/** The Pusher protocol's pieces, as the composition root holds them. */
export interface PusherEndpoints {
  transport: PusherTransport;
  /** Closes the WebSocket endpoint (clients told to reconnect) and lets webhooks on their way finish. */
  close(): Promise<void>;
}

/**
 * Wires Pusher Channels compatibility (docs/protocol.md section 9) onto the
 * shared HTTP server: the `/app/{key}` WebSocket endpoint, the `/apps/{id}`
 * HTTP API, `POST /pusher/auth`, webhooks, and the `pusher:` channel rule that
 * lets Socket.IO users join public Pusher channels (only those).
 */
export function attachPusher(deps: PusherDeps): PusherEndpoints {
  const { config, http, channels, occupancy, broker, logger } = deps;
  const pusherLogger = logger.child({ component: "pusher" });
  const apps = new PusherApps(config.pusherApps);
  const webhooks = new PusherWebhooks(config.pusher.webhookUrl, apps, pusherLogger);
  deps.authorizer.registerRule(PUSHER_KIND, (_caller, id) => isPublicPusherId(id));

  const stopObserving = channels.observe({
    memberAdded(tenantId, channel, member) {
      const name = presenceNameOf(channel);
      if (name) webhooks.send(tenantId, { name: "member_added", channel: name, user_id: member.userId });
    },
    memberRemoved(tenantId, channel, member) {
      const name = presenceNameOf(channel);
      if (name) webhooks.send(tenantId, { name: "member_removed", channel: name, user_id: member.userId });
    },
  });

  const transport = new PusherTransport(deps.router, {
    apps,
    channels,
    occupancy,
    broker,
    webhooks,
    metrics: deps.metrics,
    logger: pusherLogger,
    activityTimeoutSeconds: config.pusher.activityTimeoutSeconds,
    maxPayloadBytes: config.maxPayloadBytes,
    knownEvents: deps.knownEvents,
    coalescer: deps.coalescer,
    ...(deps.presence && { presence: deps.presence }),
  });
  // Subscriptions of a crashed node (shared occupancy): the sweeping node reports the names they vacated, once.
  const occupancyLeases = new LeaseKeeper({
    leaseMs: config.nodeLeaseMs,
    renew: () => occupancy.renew(),
    sweep: async () => {
      for (const { tenantId, name } of await occupancy.takeExpired(Date.now())) webhooks.send(tenantId, { name: "channel_vacated", channel: name });
    },
    what: "pusher occupancy",
    logger: pusherLogger,
  });
  occupancyLeases.start();
  // Through the broker, so the node that takes the HTTP call closes the user's connections on every node (itself included).
  const terminateEverywhere = (tenantId: string, userId: string) =>
    broker.publish({ tenantId, channels: [], event: "pusher:terminate_connections", data: null, control: { kind: "terminate_user", userId } });
  registerPusherHttpApi(http, { apps, broker, channels, occupancy, terminateUser: terminateEverywhere });
  registerPusherAuthEndpoint(http, { apps, authorizer: deps.authorizer, verifier: deps.verifier, audit: deps.audit });

  return {
    transport,
    async close() {
      await transport.close();
      await occupancyLeases.stop();
      stopObserving();
      await webhooks.drain();
    },
  };
}

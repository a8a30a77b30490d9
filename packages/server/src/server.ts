import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { JWTVerifyGetKey } from "jose";
import type { Logger } from "pino";
import { Redis } from "ioredis";
import type { NotificationCreatePayload } from "@switchboard/protocol";
import type { SwitchboardBackend } from "./sdk/backend.js";
import type { Config } from "./config/config.js";
import type { Caller } from "./auth/caller.js";
import { loadConfig } from "./config/config.js";
import { loadOrCreateDevSecret, signUserToken, type TokenClaims } from "./auth/dev-credentials.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { ChannelAuthorizer } from "./core/channels/channel-authorizer.js";
import { ChannelEviction } from "./core/channels/channel-eviction.js";
import { ChannelService } from "./core/channels/channel-service.js";
import { CallService } from "./core/calls/call-service.js";
import { ChatService } from "./core/chat/chat-service.js";
import { ConnectionRegistry } from "./core/connection-registry.js";
import { DomainEvents } from "./core/domain-events.js";
import { AuditService } from "./core/audit/audit-service.js";
import { CrisisService } from "./core/crisis/crisis-service.js";
import { CompositeScreener, type NamedScreenerHook } from "./core/moderation/composite-screener.js";
import { CrisisScreener } from "./core/moderation/crisis-screener.js";
import { EventsService } from "./core/events/events-service.js";
import { NotificationService } from "./core/notifications/notification-service.js";
import { ConnectionPolicies } from "./core/limits/connection-policies.js";
import { DEFAULT_RATE_LIMITS } from "./core/limits/request-families.js";
import { RequestGuard } from "./core/limits/request-guard.js";
import { WebhookService } from "./core/webhooks/webhook-service.js";
import { TypingService } from "./core/chat/typing-service.js";
import type { SwitchboardHooks } from "./core/hooks.js";
import { PresenceService } from "./core/presence/presence-service.js";
import { webhookChannelAuthorizer } from "./drivers/http/webhook-channel-authorizer.js";
import { WebPushSender } from "./drivers/http/web-push-sender.js";
import { webhookScreener } from "./drivers/http/webhook-screener.js";
import { MemoryBroker } from "./drivers/memory/memory-broker.js";
import { MemoryChannelMembers } from "./drivers/memory/memory-channel-members.js";
import { MemoryChannelOccupancy } from "./drivers/memory/memory-channel-occupancy.js";
import { MemoryPresenceStore } from "./drivers/memory/memory-presence-store.js";
import { MemoryRateLimiter } from "./drivers/memory/memory-rate-limiter.js";
import { MemoryTypingStore } from "./drivers/memory/memory-typing-store.js";
import { RedisBroker } from "./drivers/redis/redis-broker.js";
import { RedisChannelMembers } from "./drivers/redis/redis-channel-members.js";
import { RedisChannelOccupancy } from "./drivers/redis/redis-channel-occupancy.js";
import { RedisPresenceStore } from "./drivers/redis/redis-presence-store.js";
import { RedisTypingStore } from "./drivers/redis/redis-typing-store.js";
import { RedisRateLimiter } from "./drivers/redis/redis-rate-limiter.js";
import { migrate } from "./drivers/sql/migrations.js";
import { openDatabase } from "./drivers/sql/open-database.js";
import { SqlApiKeyStore } from "./drivers/sql/sql-api-key-store.js";
import { SqlAuditLog } from "./drivers/sql/sql-audit-log.js";
import { SqlCallStore } from "./drivers/sql/sql-call-store.js";
import { SqlChatStore } from "./drivers/sql/sql-chat-store.js";
import { SqlCrisisAlertStore } from "./drivers/sql/sql-crisis-alert-store.js";
import { SqlNotificationStore } from "./drivers/sql/sql-notification-store.js";
import { SqlPresenceRecords } from "./drivers/sql/sql-presence-records.js";
import { SqlWebhookOutbox } from "./drivers/sql/sql-webhook-outbox.js";
import { createLogger } from "./logger.js";
import { Metrics } from "./metrics.js";
import type { Broker } from "./ports/broker.js";
import type { SqlDatabase } from "./ports/sql-database.js";
import { createHttpApp } from "./transports/http/http-app.js";
import { registerCallRoutes } from "./transports/http/call-routes.js";
import { registerAuditRoutes } from "./transports/http/audit-routes.js";
import { ApiKeyVerifier } from "./transports/http/api-key-auth.js";
import { registerBackendRoutes } from "./transports/http/backend-routes.js";
import { publishFastLane } from "./transports/http/publish-fast-lane.js";
import { registerChatRoutes } from "./transports/http/chat-routes.js";
import { registerDemoAppRoutes } from "./transports/http/demo-app-routes.js";
import { registerDevTokenRoutes } from "./transports/http/dev-token-routes.js";
import { registerHealthRoutes } from "./transports/http/health-routes.js";
import { registerNotificationUserRoutes } from "./transports/http/notification-routes.js";
import { registerPresenceRoutes } from "./transports/http/presence-routes.js";
import { OriginPolicy } from "./transports/origin-policy.js";
import { RequestDispatcher } from "./transports/requests/request-dispatcher.js";
import { callRequests } from "./transports/requests/call-requests.js";
import { chatRequests } from "./transports/requests/chat-requests.js";
import { crisisRequests } from "./transports/requests/crisis-requests.js";
import { notificationRequests } from "./transports/requests/notification-requests.js";
import { presenceRequests } from "./transports/requests/presence-requests.js";
import { roomRequests } from "./transports/requests/room-requests.js";
import { redisStreamsAdapter } from "./transports/socketio/redis-streams-adapter.js";
import { SocketIoTransport } from "./transports/socketio/socketio-transport.js";
import { PgNotifyBridge } from "./transports/pg-notify/pg-notify-bridge.js";
import { attachPusher } from "./transports/pusher/index.js";
import { UpgradeRouter } from "./transports/upgrade-router.js";
import { WsTransport } from "./transports/ws/ws-transport.js";
import { WriteCoalescer } from "./transports/write-coalescer.js";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Complete configuration; defaults to `loadConfig(process.env)`. */
  config?: Config;
  /** Extension hooks (channel authorization, ...), run in order before the webhook from config. */
  hooks?: SwitchboardHooks[];
  /** App screeners run with the built-in crisis screener (library hooks). */
  screeners?: NamedScreenerHook[];
  /** Key resolver for RS256/ES256 tokens, instead of `JWKS_URL`. */
  jwks?: JWTVerifyGetKey;
  logger?: Logger;
  /** Directory of the built demo app served at `/`; defaults to the repository's `apps/demo/dist`. */
  demoDir?: string;
}

/** A running (or ready to run) Switchboard server. */
export interface SwitchboardServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly http: FastifyInstance;
  readonly database: SqlDatabase;
  /** Presence, for in-process callers (the call service sets `in_call` through it; library mode reads it). */
  readonly presence: PresenceService;
  /** Whether the built demo app is served at `/` (see `ServerOptions.demoDir`). */
  readonly demoApp: boolean;
  /** The generated HS256 secret when neither JWT_SECRET nor JWKS_URL was configured. */
  readonly devSecret?: string;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Base URL once listening, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Signs an HS256 user token with the configured or generated secret (development and tests). */
  signToken(claims: TokenClaims, expiresIn?: string | number): Promise<string>;
  /**
   * Publishes an app event to channels of a tenant, as `POST /v1/events` does
   * (server SDK, library mode).
   *
   * @example
   * await server.publish("acme", { channel: "tenant:acme", event: "appointment:created", data: { id: 7 } });
   */
  publish(tenantId: string, event: { channel?: string; channels?: string[]; event: string; data?: unknown }): Promise<{ channels: string[]; event: string }>;
  /**
   * Creates notifications for users or a topic's subscribers, as `POST /v1/notifications`
   * does (server SDK, library mode).
   */
  notify(tenantId: string, notification: NotificationCreatePayload): Promise<{ created: number; notificationIds: string[] }>;
  /** The server SDK in-process: the methods of {@link SwitchboardApi}, for one tenant. */
  forTenant(tenantId: string): SwitchboardBackend;
  /** Outgoing webhooks and their delivery log. */
  readonly webhooks: WebhookService;
  /** The Postgres LISTEN/NOTIFY bridge, when `EVENTS_DATABASE_URL` is set. */
  readonly eventsBridge?: PgNotifyBridge;
  /** Graceful stop: announce, stop accepting, close connections, close the database. Idempotent. */
  stop(): Promise<void>;
}

/** Event names the server emits itself (metrics count other names as `app`). */
const SERVER_EVENTS = new Set([
  "connected",
  "server:shutdown",
  "room:userJoined",
  "room:userLeft",
  "conversation:new",
  "conversation:updated",
  "conversation:removed",
  "message:new",
  "message:updated",
  "message:deleted",
  "message:delivered",
  "message:read",
  "typing:start",
  "typing:stop",
  "call:incoming",
  "call:accepted",
  "call:rejected",
  "call:ended",
  "call:missed",
  "call:signal",
  "call:qualityIssue",
  "notification:new",
  "notification:unreadCount",
  "presence:changed",
  "presence:activity",
  "crisis:alert",
  "crisis:updated",
]);

/**
 * The composition root: picks drivers from the configuration, wires core
 * services and transports, and owns start and graceful stop. Nothing here is a
 * module-level singleton, so several servers can run in one process.
 *
 * @example
 * const server = await createServer({ config: loadConfig({ PORT: "0", DATA_DIR: ":memory:" }) });
 * await server.listen();
 * const token = await server.signToken({ sub: "alice", tenant: "acme" });
 */
export async function createServer(options: ServerOptions = {}): Promise<SwitchboardServer> {
  const config = options.config ?? loadConfig(process.env);
  const logger = options.logger ?? createLogger(config.logLevel, config.nodeId);
  const metrics = new Metrics(config.nodeId);

  const devSecret = !config.jwt.secret && !config.jwt.jwksUrl && !options.jwks ? await loadOrCreateDevSecret(config.database.dataDir) : undefined;
  const secret = config.jwt.secret ?? devSecret;
  const verifier = createTokenVerifier({
    secret,
    jwksUrl: config.jwt.jwksUrl,
    jwks: options.jwks,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    requireExp: config.jwt.requireExp,
  });

  const database = await openDatabase(config.database);
  await migrate(database);
  await database.query(
    `insert into nodes (node_id) values ($1)
     on conflict (node_id) do update set started_at = now(), last_seen_at = now()`,
    [config.nodeId],
  );

  // Bounded commands: a Redis that keeps connections open without answering (a proxy in front of a
  // dead host, a stalled network) must not hang presence, member lists or connection setup.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        ...(config.redisCommandTimeoutMs > 0 && { commandTimeout: config.redisCommandTimeoutMs }),
      })
    : undefined;
  redis?.on("error", (err) => logger.debug({ err: err.message }, "redis connection error"));
  await redis?.connect().catch((err) => logger.warn({ err: (err as Error).message }, "redis not reachable at start"));

  const hooks = [...(options.hooks ?? [])];
  if (config.channelAuth.url) {
    hooks.push(webhookChannelAuthorizer({ url: config.channelAuth.url, timeoutMs: config.channelAuth.timeoutMs, secret: config.channelAuth.secret, logger }));
  }
  // With Redis, channel events cross nodes; without it, one process is the whole deployment.
  const subscriber = redis?.duplicate();
  subscriber?.on("error", (err) => logger.debug({ err: err.message }, "redis subscriber error"));
  let resync: (() => void) | undefined;
  const broker: Broker =
    redis && subscriber
      ? await RedisBroker.start({
          publisher: redis,
          subscriber,
          channel: `${config.redisPrefix}:events`,
          nodeId: config.nodeId,
          logger,
          onResubscribed: () => resync?.(),
        })
      : new MemoryBroker();
  const authorizer = new ChannelAuthorizer(hooks);
  // With Redis, live state (presence, members, subscriptions) is shared and leased to this node; without it, it dies with the process.
  const leased = { prefix: config.redisPrefix, nodeId: config.nodeId, leaseMs: config.nodeLeaseMs };
  const channels = new ChannelService({
    authorizer,
    members: redis ? new RedisChannelMembers({ redis, ...leased }) : new MemoryChannelMembers(),
    broker,
    maxRoomsPerConnection: config.limits.maxRoomsPerConnection,
    announceMaxMembers: config.limits.announceMaxMembers,
    leaseMs: config.nodeLeaseMs,
    logger: logger.child({ component: "channels" }),
  });
  channels.start();
  const registry = new ConnectionRegistry();
  const rateRules = { ...DEFAULT_RATE_LIMITS, ...config.limits.rateLimits };
  const rateLimiter = redis ? new RedisRateLimiter(redis, config.redisPrefix, rateRules) : new MemoryRateLimiter(rateRules);
  const guard = new RequestGuard(rateLimiter, { abuseThreshold: config.limits.abuseThreshold, abuseWindowMs: 60_000 });
  const policies = new ConnectionPolicies(registry, guard, {
    maxConnectionsPerUser: config.limits.maxConnectionsPerUser,
    maxBufferedBytes: config.limits.maxBufferedBytes,
    idleTimeoutMs: config.limits.idleTimeoutMs,
    checkIntervalMs: 1000,
    logger,
  });
  const admits = (caller: Caller) => policies.admits(caller);
  const admitsAddress = async (address: string) => (await rateLimiter.consume("connect", address)).allowed;
  const audit = new AuditService(new SqlAuditLog(database), { nodeId: config.nodeId, retentionDays: config.auditRetentionDays, flushMs: 500, logger });
  const domainEvents = new DomainEvents((err, event) => logger.error({ err, event: event.type }, "domain event listener failed"));
  const screener = new CompositeScreener({
    builtin: new CrisisScreener(),
    hooks: [
      ...(options.screeners ?? []),
      ...(config.crisis.screenerUrl ? [webhookScreener({ url: config.crisis.screenerUrl, secret: config.crisis.screenerSecret })] : []),
    ],
    logger: logger.child({ component: "screener" }),
  });
  const crisis = new CrisisService(screener, new SqlCrisisAlertStore(database), broker, {
    slaMs: config.crisis.slaMs,
    sweepIntervalMs: 5000,
    logger,
    domainEvents,
  });
  const presence = new PresenceService({
    store: redis ? new RedisPresenceStore({ redis, prefix: config.redisPrefix }) : new MemoryPresenceStore(),
    leaseMs: config.nodeLeaseMs,
    maxViewedPerConnection: config.limits.maxRoomsPerConnection,
    sharedStore: Boolean(redis),
    records: new SqlPresenceRecords(database),
    broker,
    authorizer,
    logger: logger.child({ component: "presence" }),
    nodeId: config.nodeId,
    idleMs: config.presence.idleMs,
    offlineGraceMs: config.presence.offlineGraceMs,
    domainEvents,
    onMood: async (caller, custom) => {
      const flagged = await crisis.screen({ tenantId: caller.tenantId, userId: caller.userId, text: custom.text ?? "", kind: "mood", moodScore: custom.mood?.value });
      if (flagged) await crisis.raise(caller, flagged, { kind: "mood" });
    },
  });
  presence.start();
  const webhooks = new WebhookService(new SqlWebhookOutbox(database), domainEvents, { ...config.webhook, pollMs: 1000, logger });
  const chatStore = new SqlChatStore(database);
  const eviction = new ChannelEviction(broker, registry, channels, logger.child({ component: "channels" }), presence);
  eviction.start();
  const chat = new ChatService(chatStore, broker, authorizer, { domainEvents, crisis, eviction });
  const typing = new TypingService(chat, redis ? new RedisTypingStore(redis, config.redisPrefix) : new MemoryTypingStore(), config.typingTimeoutMs, logger.child({ component: "typing" }));
  const calls = new CallService(new SqlCallStore(database), broker, registry, {
    ...config.calls,
    conversationParticipants: (caller, conversationId) => chat.participantsFor(caller, conversationId),
    // Participants of an active call show `in_call`.
    inCall: {
      entered: async (tenantId, userId) => void (await presence.setInCall(tenantId, userId, true)),
      left: async (tenantId, userId) => void (await presence.setInCall(tenantId, userId, false)),
    },
    // With Redis, a participant back on another node within the grace keeps the call.
    isConnectedAnywhere: (tenantId, userId) => presence.hasConnections(tenantId, userId),
    domainEvents,
    authorizer,
    logger,
  });
  // Before any client connects: participants of calls still active after a restart read `in_call`.
  await calls.restoreInCall().catch((err: unknown) => logger.warn({ err }, "in_call not restored for active calls"));
  const events = new EventsService(broker);
  const notifications = new NotificationService({
    store: new SqlNotificationStore(database),
    broker,
    registry,
    isConnectedAnywhere: (tenantId, userId) => presence.hasConnections(tenantId, userId),
    push: config.vapid ? new WebPushSender(config.vapid) : undefined,
    logger,
  });
  domainEvents.on((event) => notifications.onDomainEvent(event));
  const dispatcher = new RequestDispatcher(
    { ...roomRequests(channels), ...chatRequests(chat, typing, channels), ...callRequests(calls, channels), ...notificationRequests(notifications, channels), ...presenceRequests(presence), ...crisisRequests(crisis) },
    metrics,
    logger,
    {
      guard,
      // Any request is client activity: it postpones idle logoff and idle -> away.
      onActivity: (connection) => {
        policies.touch(connection);
        presence.touch(connection);
      },
      onResult: (connection, event, payload, ack) => audit.request(connection, event, payload, ack),
    },
  );

  // The registry first: the others ask it whether a user is still connected.
  const listeners = [registry, policies, audit, channels, presence, typing, calls];
  const origins = new OriginPolicy(config.corsOrigins);
  // One per server: every WebSocket transport writes each socket's frames of an event-loop turn together.
  const coalescer = new WriteCoalescer();
  const storedKeys = new SqlApiKeyStore(database);
  const auditKeyUse = (tenantId: string | undefined, request: { method: string; url: string }) => {
    // Runs on every backend request: one literal per branch, no array from `split` and no
    // object spreads. That form cost 3-4 µs a call in a micro-benchmark (0.5 µs now), and
    // 7.5% of a CPU profile's samples at 2,000 publishes/s (1.1% now).
    const query = request.url.indexOf("?");
    const target = `${request.method} ${query === -1 ? request.url : request.url.slice(0, query)}`.slice(0, 200);
    // A backend publishes at machine pace: accepted uses are counted per window, refusals kept one by one.
    if (tenantId) audit.recordRepeated({ tenantId, actor: "api-key", actorKind: "api_key", action: "api_key.use", target, result: "ok" });
    else audit.record({ tenantId: "-", actor: "api-key", actorKind: "api_key", action: "api_key.use", target, result: "denied" });
  };
  const apiKeys = new ApiKeyVerifier(config.apiKeys, storedKeys, auditKeyUse);
  // `stopping` is declared with the lifecycle below; the lane reads it per request, after startup.
  const fastLane = (httpLogger: Logger) => publishFastLane({ events, apiKeys, metrics, logger: httpLogger, maxPayloadBytes: config.maxPayloadBytes, isOpen: () => !stopping });
  const http = await createHttpApp({ maxPayloadBytes: config.maxPayloadBytes, origins, metrics, logger, fastLane });
  const streams = redis ? redisStreamsAdapter(redis, config.redisPrefix) : undefined;
  const socketio = new SocketIoTransport(http.server, {
    adapter: streams?.factory,
    maxPayloadBytes: config.maxPayloadBytes,
    recoveryWindowMs: config.recoveryWindowMs,
    origins,
    verifier,
    listeners,
    broker,
    dispatcher,
    metrics,
    logger,
    admits,
    admitsAddress,
    onRefused: (code, caller) =>
      audit.record({ tenantId: caller?.tenantId ?? "-", actor: caller?.userId ?? "-", actorKind: "user", action: "connect", result: "denied", detail: code }),
    knownEvents: SERVER_EVENTS,
    coalescer,
    stillAllowed: (caller, channel) => authorizer.isAllowed(caller, channel),
  });

  const router = new UpgradeRouter(http.server, origins);
  const ws = new WsTransport({
    router,
    verifier,
    listeners,
    broker,
    dispatcher,
    metrics,
    logger,
    maxPayloadBytes: config.maxPayloadBytes,
    // A connection that stops answering is dropped at the second check after it went quiet, 20-40 s by default:
    // with the 2-s offline grace, a vanished device reads offline within PROTOCOL.md's 60 s (30 s checks took up to 62).
    heartbeatMs: config.wsHeartbeatMs,
    admits,
    admitsAddress,
    knownEvents: SERVER_EVENTS,
    coalescer,
  });

  // Redis came back after an outage: events from other nodes may have been missed; clients fetch gaps by seq.
  resync = () => {
    logger.warn("redis subscription restored; telling clients to resync");
    socketio.io.local.emit("server:resync", { reason: "broker_reconnected" });
    ws.broadcastAll("server:resync", { reason: "broker_reconnected" });
  };

  const eventsBridge = config.events.databaseUrl
    ? new PgNotifyBridge({
        url: config.events.databaseUrl,
        channels: config.events.channels,
        events,
        logger,
        // Several nodes: one listens at a time, and the broker carries its publishes to the rest.
        ...(config.redisUrl && { leaderKey: config.redisPrefix }),
      })
    : undefined;
  await eventsBridge?.start();

  const pusher = attachPusher({
    config,
    http,
    router,
    channels,
    authorizer,
    occupancy: redis ? new RedisChannelOccupancy({ redis, ...leased }) : new MemoryChannelOccupancy(),
    broker,
    verifier,
    audit,
    metrics,
    logger,
    knownEvents: SERVER_EVENTS,
    coalescer,
    presence,
  });

  let stopping = false;
  let stopped: Promise<void> | undefined;
  registerHealthRoutes(
    http,
    {
      nodeId: config.nodeId,
      connections: () => socketio.connectionCount + ws.connectionCount + pusher.transport.connectionCount,
      activeUsers: () => registry.activeUserCount,
      isStopping: () => stopping,
      readinessChecks: () => ({
        database: () => database.ping(),
        ...(redis && { redis: async () => void (await redis.ping()) }),
      }),
    },
    metrics,
  );
  registerPresenceRoutes(http, { presence, apiKeys });
  registerBackendRoutes(http, { events, notifications, webhooks, apiKeys, recordAudit: (entry) => audit.record(entry) });
  registerAuditRoutes(http, audit, verifier);

  http.get("/realtime/health", async () => ({
    status: stopping ? "stopping" : "ok",
    service: "switchboard",
    active_users: registry.activeUserCount,
    timestamp: new Date().toISOString(),
  }));
  registerChatRoutes(http, chat, verifier, guard, audit);
  registerCallRoutes(http, calls, verifier, guard, audit);
  registerNotificationUserRoutes(http, notifications, verifier, guard, audit);
  // Demo sign-in exists only on the generated development secret, never with a configured issuer.
  if (devSecret) registerDevTokenRoutes(http, (claims, expiresIn) => signUserToken(devSecret, claims, expiresIn));
  const demoApp = await registerDemoAppRoutes(http, options.demoDir);

  let port = config.port;
  const stop = async (): Promise<void> => {
    stopping = true;
    socketio.announceShutdown({ reconnectInMs: config.shutdown.reconnectInMs });
    ws.announceShutdown(config.shutdown.reconnectInMs);
    // Give the announcement a moment to reach the wire before the transports close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await socketio.disconnectAll();
    await ws.close();
    await pusher.close();
    eviction.close();
    await channels.close();
    typing.close();
    calls.close();
    policies.close();
    crisis.close();
    // After the transports: every departure is known, so presence can write lastSeen before the database closes.
    await presence.close();
    // Only now: what the departures published went to other nodes' Socket.IO clients through the adapter.
    await socketio.close();
    streams?.close();
    await audit.close();
    await http.close();
    await eventsBridge?.close();
    await webhooks.close();
    await broker.close();
    await database.query("update nodes set last_seen_at = now() where node_id = $1", [config.nodeId]).catch(() => {});
    await database.close();
    subscriber?.disconnect();
    redis?.disconnect();
    logger.info("stopped");
  };

  return {
    config,
    logger,
    metrics,
    http,
    database,
    presence,
    demoApp,
    devSecret,
    eventsBridge,
    webhooks,
    publish: (tenantId, event) => events.publish(tenantId, event),
    notify: (tenantId, notification) => notifications.create(tenantId, notification),
    forTenant: (tenantId) => ({
      publish: (channel, event, data) => events.publish(tenantId, { ...(Array.isArray(channel) ? { channels: channel } : { channel }), event, data }),
      notify: (notification) => notifications.create(tenantId, notification),
      presence: (userIds) => presence.get(tenantId, userIds),
      isOnline: (userId) => presence.online(tenantId, userId),
    }),
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      port = (http.server.address() as AddressInfo).port;
      logger.info({ port, host: config.host, database: database.kind }, "listening");
      return port;
    },
    async signToken(claims, expiresIn) {
      if (!secret) throw new Error("no HS256 secret configured");
      return signUserToken(secret, claims, expiresIn);
    },
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}

import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { JWTVerifyGetKey } from "jose";
import type { Logger } from "pino";
import { Redis } from "ioredis";
import type { Config } from "./config/config.js";
import { loadConfig } from "./config/config.js";
import { loadOrCreateDevSecret, signUserToken, type TokenClaims } from "./auth/dev-credentials.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { ChannelAuthorizer } from "./core/channels/channel-authorizer.js";
import { ChannelService } from "./core/channels/channel-service.js";
import type { SwitchboardHooks } from "./core/hooks.js";
import { PresenceService } from "./core/presence/presence-service.js";
import { webhookChannelAuthorizer } from "./drivers/http/webhook-channel-authorizer.js";
import { MemoryBroker } from "./drivers/memory/memory-broker.js";
import { MemoryChannelMembers } from "./drivers/memory/memory-channel-members.js";
import { MemoryPresenceStore } from "./drivers/memory/memory-presence-store.js";
import { migrate } from "./drivers/sql/migrations.js";
import { openDatabase } from "./drivers/sql/open-database.js";
import { SqlPresenceRecords } from "./drivers/sql/sql-presence-records.js";
import { createLogger } from "./logger.js";
import { Metrics } from "./metrics.js";
import type { Broker } from "./ports/broker.js";
import type { SqlDatabase } from "./ports/sql-database.js";
import { createHttpApp } from "./transports/http/http-app.js";
import { registerHealthRoutes } from "./transports/http/health-routes.js";
import { registerPresenceRoutes } from "./transports/http/presence-routes.js";
import { OriginPolicy } from "./transports/origin-policy.js";
import { RequestDispatcher } from "./transports/requests/request-dispatcher.js";
import { presenceRequests } from "./transports/requests/presence-requests.js";
import { roomRequests } from "./transports/requests/room-requests.js";
import { SocketIoTransport } from "./transports/socketio/socketio-transport.js";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Complete configuration; defaults to `loadConfig(process.env)`. */
  config?: Config;
  /** Extension hooks (channel authorization, ...), run in order before the webhook from config. */
  hooks?: SwitchboardHooks[];
  /** Key resolver for RS256/ES256 tokens, instead of `JWKS_URL`. */
  jwks?: JWTVerifyGetKey;
  logger?: Logger;
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
  /** The generated HS256 secret when neither JWT_SECRET nor JWKS_URL was configured. */
  readonly devSecret?: string;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Base URL once listening, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Signs an HS256 user token with the configured or generated secret (development and tests). */
  signToken(claims: TokenClaims, expiresIn?: string | number): Promise<string>;
  /** Graceful stop: announce, stop accepting, close connections, close the database. Idempotent. */
  stop(): Promise<void>;
}

/** Event names the server emits itself (metrics count other names as `app`). */
const SERVER_EVENTS = new Set(["connected", "server:shutdown", "room:userJoined", "room:userLeft", "presence:changed", "presence:activity"]);

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

  const redis = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
  redis?.on("error", (err) => logger.debug({ err: err.message }, "redis connection error"));
  await redis?.connect().catch((err) => logger.warn({ err: (err as Error).message }, "redis not reachable at start"));

  const hooks = [...(options.hooks ?? [])];
  if (config.channelAuth.url) {
    hooks.push(webhookChannelAuthorizer({ url: config.channelAuth.url, timeoutMs: config.channelAuth.timeoutMs, secret: config.channelAuth.secret, logger }));
  }
  const broker: Broker = new MemoryBroker();
  const authorizer = new ChannelAuthorizer(hooks);
  const channels = new ChannelService({ authorizer, members: new MemoryChannelMembers(), broker });
  const presence = new PresenceService({
    store: new MemoryPresenceStore(),
    records: new SqlPresenceRecords(database),
    broker,
    authorizer,
    logger: logger.child({ component: "presence" }),
    nodeId: config.nodeId,
    idleMs: config.presence.idleMs,
    offlineGraceMs: config.presence.offlineGraceMs,
  });
  presence.start();
  const dispatcher = new RequestDispatcher({ ...roomRequests(channels), ...presenceRequests(presence) }, metrics, logger);

  const origins = new OriginPolicy(config.corsOrigins);
  const http = await createHttpApp({ maxPayloadBytes: config.maxPayloadBytes, origins, metrics, logger });
  const socketio = new SocketIoTransport(http.server, {
    maxPayloadBytes: config.maxPayloadBytes,
    recoveryWindowMs: config.recoveryWindowMs,
    origins,
    verifier,
    channels,
    presence,
    broker,
    dispatcher,
    metrics,
    logger,
    knownEvents: SERVER_EVENTS,
  });

  let stopping = false;
  let stopped: Promise<void> | undefined;
  registerHealthRoutes(
    http,
    {
      nodeId: config.nodeId,
      connections: () => socketio.connectionCount,
      activeUsers: () => socketio.activeUserCount,
      isStopping: () => stopping,
      readinessChecks: () => ({
        database: () => database.ping(),
        ...(redis && { redis: async () => void (await redis.ping()) }),
      }),
    },
    metrics,
  );
  registerPresenceRoutes(http, { presence, apiKeys: config.apiKeys });

  let port = config.port;
  const stop = async (): Promise<void> => {
    stopping = true;
    socketio.announceShutdown({ reconnectInMs: config.shutdown.reconnectInMs });
    // Give the announcement a moment to reach the wire before the transports close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await socketio.close();
    // After the transports: every departure is known, so presence can write lastSeen before the database closes.
    await presence.close();
    await http.close();
    await broker.close();
    await database.query("update nodes set last_seen_at = now() where node_id = $1", [config.nodeId]).catch(() => {});
    await database.close();
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
    devSecret,
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

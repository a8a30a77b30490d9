import type { Server as HttpServer } from "node:http";
import type { ServerShutdownEvent } from "@switchboard/protocol";
import { Server, type Socket } from "socket.io";
import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import type { ChannelService } from "../../core/channels/channel-service.js";
import type { PresenceService } from "../../core/presence/presence-service.js";
import type { Broker, ChannelMessage } from "../../ports/broker.js";
import type { Metrics } from "../../metrics.js";
import type { OriginPolicy } from "../origin-policy.js";
import type { RequestDispatcher } from "../requests/request-dispatcher.js";
import { authMiddleware, type SocketData } from "./auth-middleware.js";
import { roomKey } from "./room-key.js";
import { SocketConnection } from "./socket-connection.js";

export interface SocketIoTransportOptions {
  maxPayloadBytes: number;
  /** Connection state recovery window; 0 turns recovery off. */
  recoveryWindowMs: number;
  origins: OriginPolicy;
  verifier: TokenVerifier;
  channels: ChannelService;
  presence: PresenceService;
  broker: Broker;
  dispatcher: RequestDispatcher;
  metrics: Metrics;
  logger: Logger;
  /** Event names the server itself emits; others are app events and counted as `app`. */
  knownEvents: ReadonlySet<string>;
}

/**
 * The native protocol (PROTOCOL.md sections 1-3): authenticates handshakes,
 * hands requests to the dispatcher, and delivers channel events from the broker
 * to the local sockets of each tenant-scoped room. Holds no state of its own
 * beyond Socket.IO's.
 */
export class SocketIoTransport {
  readonly io: Server;
  private readonly unsubscribeBroker: () => void;
  private readonly activeUsers = new Map<string, number>();
  /** Per-connection cleanups still running; `close` waits for them so presence sees every departure. */
  private readonly cleanups = new Set<Promise<void>>();

  constructor(
    httpServer: HttpServer,
    private readonly options: SocketIoTransportOptions,
  ) {
    const { origins } = options;
    this.io = new Server(httpServer, {
      maxHttpBufferSize: options.maxPayloadBytes,
      // Other WebSocket endpoints (plain WS, Pusher) share this HTTP server; let them take their upgrades.
      destroyUpgrade: false,
      cors: { origin: (origin, cb) => cb(null, origins.isAllowed(origin)), credentials: true },
      allowRequest: (req, cb) => {
        const allowed = origins.isAllowed(req.headers.origin);
        cb(allowed ? null : "origin not allowed", allowed);
      },
      ...(options.recoveryWindowMs > 0 && {
        connectionStateRecovery: { maxDisconnectionDuration: options.recoveryWindowMs, skipMiddlewares: false },
      }),
    });
    this.io.use(authMiddleware(options.verifier, options.logger));
    this.io.on("connection", (socket) => this.onConnection(socket));
    this.unsubscribeBroker = options.broker.subscribe((message) => this.deliver(message));
  }

  /** Open sockets on this node. */
  get connectionCount(): number {
    return this.io.engine.clientsCount;
  }

  /** Distinct users (per tenant) with at least one socket on this node. */
  get activeUserCount(): number {
    return this.activeUsers.size;
  }

  private onConnection(socket: Socket): void {
    const { caller } = socket.data as SocketData;
    const connection = new SocketConnection(socket, caller);
    const { channels, presence, dispatcher, metrics, logger } = this.options;
    const userKey = `${caller.tenantId}/${caller.userId}`;
    this.activeUsers.set(userKey, (this.activeUsers.get(userKey) ?? 0) + 1);
    metrics.connections.inc({ protocol: "socketio" });

    // Requests may arrive before the automatic channels and presence are set up; they wait for it.
    const ready = (async () => {
      await channels.connect(connection, socket.recovered ? [...connection.channels()] : []);
      await presence.connect(connection);
    })();

    socket.onAny(async (event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (reply: unknown) => void) : undefined;
      await ready.catch(() => {});
      // Any request is client activity (idle -> away is about the user, not about what they asked).
      presence.touch(connection);
      const reply = await dispatcher.dispatch(connection, event, args[0]);
      if (ack) ack(reply);
      else if (!reply.ok) logger.debug({ event, code: reply.error.code }, "request without ack failed");
    });

    socket.on("disconnect", (reason) => {
      metrics.connections.dec({ protocol: "socketio" });
      const left = (this.activeUsers.get(userKey) ?? 1) - 1;
      if (left > 0) this.activeUsers.set(userKey, left);
      else this.activeUsers.delete(userKey);
      logger.debug({ userId: caller.userId, tenantId: caller.tenantId, reason }, "socket disconnected");
      const cleanup = (async () => {
        await ready.catch(() => {});
        await channels.disconnect(connection).catch((err) => logger.error({ err }, "channel cleanup failed"));
        await presence.disconnect(connection);
      })();
      this.cleanups.add(cleanup);
      void cleanup.finally(() => this.cleanups.delete(cleanup));
    });

    ready.then(
      () => {
        socket.emit("connected", {
          socketId: socket.id,
          userId: caller.userId,
          tenantId: caller.tenantId,
          serverTime: new Date().toISOString(),
          recovered: socket.recovered,
        });
        logger.debug({ userId: caller.userId, tenantId: caller.tenantId, recovered: socket.recovered }, "socket connected");
      },
      (err) => {
        logger.error({ err }, "connection setup failed");
        socket.disconnect(true);
      },
    );
  }

  /** Delivers one broker message to this node's sockets in the channels' rooms, once per socket. */
  private deliver(message: ChannelMessage): void {
    const rooms = this.io.of("/").adapter.rooms;
    const keys = message.channels.map((channel) => roomKey(message.tenantId, channel)).filter((key) => rooms.has(key));
    if (keys.length === 0) return;
    let target = this.io.local.to(keys);
    if (message.exceptConnectionId) target = target.except(message.exceptConnectionId);
    target.emit(message.event, message.data);
    this.options.metrics.eventsOut.inc({ event: this.options.knownEvents.has(message.event) ? message.event : "app" }, recipientCount(rooms, keys, message.exceptConnectionId));
  }

  /** Tells every local client the server is stopping and when to come back. */
  announceShutdown(event: ServerShutdownEvent): void {
    this.io.local.emit("server:shutdown", event);
  }

  /**
   * Closes every client's transport (clients see `transport close` and reconnect
   * on their own, to this server once it is back or to another node), waits
   * for their cleanups (channels, presence) and releases the adapter. The HTTP
   * server is closed by its owner.
   */
  async close(): Promise<void> {
    this.unsubscribeBroker();
    this.io.engine.close();
    await Promise.all(this.cleanups);
    await this.io.of("/").adapter.close();
  }
}

/** Sockets an emission to `keys` reaches: the union of the rooms, less the excluded socket. */
function recipientCount(rooms: Map<string, Set<string>>, keys: string[], except: string | undefined): number {
  if (keys.length === 1) {
    const members = rooms.get(keys[0]!)!;
    return members.size - (except && members.has(except) ? 1 : 0);
  }
  const union = new Set<string>();
  for (const key of keys) for (const id of rooms.get(key)!) union.add(id);
  if (except) union.delete(except);
  return union.size;
}

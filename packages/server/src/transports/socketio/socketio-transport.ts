import type { Server as HttpServer } from "node:http";
import type { ServerShutdownEvent } from "@switchboard/protocol";
import { Server, type ServerOptions, type Socket } from "socket.io";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { isParticipation } from "../../core/channels/channel-service.js";
import type { ConnectionListener } from "../../core/connection-listener.js";
import type { Broker, ChannelMessage } from "../../ports/broker.js";
import type { Metrics } from "../../metrics.js";
import type { OriginPolicy } from "../origin-policy.js";
import type { RequestDispatcher } from "../requests/request-dispatcher.js";
import { authMiddleware, type SocketData } from "./auth-middleware.js";
import { CompactRecoveryAdapter } from "./compact-recovery-adapter.js";
import { channelOfRoom, roomKey } from "./room-key.js";
import { SocketConnection } from "./socket-connection.js";
import { WithheldReplays } from "./withheld-replays.js";
import type { WebSocket } from "ws";
import type { WriteCoalescer } from "../write-coalescer.js";
import { directBroadcasts } from "./direct-broadcast.js";
import { ConnectionCleanups } from "../connection-cleanups.js";

export interface SocketIoTransportOptions {
  maxPayloadBytes: number;
  /** Connection state recovery window; 0 turns recovery off. */
  recoveryWindowMs: number;
  origins: OriginPolicy;
  verifier: TokenVerifier;
  /** Told of every connection's start and end, in order (channels first). */
  listeners: readonly ConnectionListener[];
  broker: Broker;
  dispatcher: RequestDispatcher;
  metrics: Metrics;
  logger: Logger;
  /** Whether this caller may open another connection (per-user limit). */
  admits: (caller: Caller) => boolean;
  /** Whether this client address may open another connection now (per-IP handshake rate). */
  admitsAddress: (address: string) => Promise<boolean>;
  /** Refused handshakes (audit trail). */
  onRefused?: (code: string, caller?: Caller) => void;
  /** Event names the server itself emits; others are app events and counted as `app`. */
  knownEvents: ReadonlySet<string>;
  /** Batches each socket's frames per event-loop turn into one write. */
  coalescer: WriteCoalescer;
  /**
   * A cluster adapter (Redis Streams) when several nodes share the deployment:
   * channel events then reach Socket.IO clients only through it.
   */
  adapter?: ServerOptions["adapter"];
  /**
   * Whether the caller may still be in a channel: asked, before a session is
   * recovered, of each of its conversation and call channels (see
   * {@link guardRecovery}). Without it every session that can be is recovered.
   */
  stillAllowed?: (caller: Caller, channel: string) => Promise<boolean>;
}

/** The longest a connecting socket's writes wait for its `connected` event (see `holdConnectWrites`). */
const CONNECT_HOLD_MS = 1000;

/**
 * The native protocol (PROTOCOL.md sections 1-3): authenticates handshakes,
 * hands requests to the dispatcher, and delivers channel events from the broker
 * to the sockets of each tenant-scoped room. Holds no state of its own beyond
 * Socket.IO's.
 *
 * On one node, each broker message is emitted to this node's rooms. With a
 * cluster adapter, the node that published a message broadcasts it through the
 * adapter, which carries it to the rooms on every node and keeps it for
 * connection state recovery on any node; the copies the broker brings from
 * other nodes are then only counted, so each client gets each event once.
 */
export class SocketIoTransport {
  readonly io: Server;
  private readonly unsubscribeBroker: () => void;
  /** Departures still running; `close` waits for them so every listener (presence) sees every departure. */
  private readonly cleanups = new ConnectionCleanups();
  /** Set by {@link announceShutdown}: a draining node takes no new sessions, so reconnecting clients land elsewhere. */
  private draining = false;
  /** Missed packets of sessions being recovered, written only once the handshake's token passed. */
  private readonly replays = new WithheldReplays();
  /** Room broadcasts go straight to each WebSocket when nothing is queued ahead (see directBroadcastWrite). */
  private readonly writeBroadcastsDirectly = directBroadcasts();
  /** Releases each connecting socket's held writes (see {@link holdConnectWrites}). */
  private readonly connectWrites = new WeakMap<Socket, () => void>();

  constructor(
    httpServer: HttpServer,
    private readonly options: SocketIoTransportOptions,
  ) {
    const { origins } = options;
    this.io = new Server(httpServer, {
      // Without a cluster adapter, recovery keeps broadcasts in this process: compactly (see the adapter).
      ...(options.adapter ? { adapter: options.adapter } : options.recoveryWindowMs > 0 && { adapter: CompactRecoveryAdapter }),
      maxHttpBufferSize: options.maxPayloadBytes,
      wsEngine: options.coalescer.wsEngine(),
      // Other WebSocket endpoints (plain WS, Pusher) share this HTTP server; let them take their upgrades.
      destroyUpgrade: false,
      cors: { origin: (origin, cb) => cb(null, origins.isAllowed(origin)), credentials: true },
      allowRequest: (req, cb) => {
        if (!origins.isAllowed(req.headers.origin)) return cb("origin not allowed", false);
        if (this.draining) return cb("server is stopping", false);
        // Only new Engine.IO sessions count against the handshake rate, not every polling request.
        if (new URL(req.url ?? "/", "http://x").searchParams.has("sid")) return cb(null, true);
        options.admitsAddress(req.socket.remoteAddress ?? "unknown").then(
          (admitted) => cb(admitted ? null : "too many connection attempts", admitted),
          () => cb(null, true),
        );
      },
      ...(options.recoveryWindowMs > 0 && {
        connectionStateRecovery: { maxDisconnectionDuration: options.recoveryWindowMs, skipMiddlewares: false },
      }),
    });
    if (options.recoveryWindowMs > 0) guardRecovery(this.io, this.replays, options.stillAllowed);
    this.io.use(authMiddleware(options.verifier, options.logger, options.admits, options.onRefused));
    // Last, so only an admitted socket is held.
    this.io.use((socket, next) => {
      this.holdConnectWrites(socket);
      next();
    });
    this.io.on("connection", (socket) => this.onConnection(socket));
    this.unsubscribeBroker = options.broker.subscribe((message, origin) => this.deliver(message, origin));
  }

  /** Open sockets on this node. */
  get connectionCount(): number {
    return this.io.engine.clientsCount;
  }

  /**
   * Holds an admitted WebSocket's writes until its `connected` event is
   * written, so that the CONNECT packet Socket.IO writes now and the
   * `connected` event the setup writes later leave in one write (at most
   * {@link CONNECT_HOLD_MS} later). Long-polling writes as before.
   */
  private holdConnectWrites(socket: Socket): void {
    const transport = socket.conn.transport as { name?: string; socket?: WebSocket };
    if (transport.name !== "websocket" || !transport.socket) return;
    this.connectWrites.set(socket, this.options.coalescer.holdUntilReleased(transport.socket, CONNECT_HOLD_MS));
  }

  private releaseConnectWrites(socket: Socket): void {
    this.connectWrites.get(socket)?.();
    this.connectWrites.delete(socket);
  }

  private onConnection(socket: Socket): void {
    // First, before anything else reaches the socket: what its recovered session missed (see WithheldReplays).
    if (socket.recovered) this.replays.release(socket);
    this.writeBroadcastsDirectly(socket);
    const { caller } = socket.data as SocketData;
    const connection = new SocketConnection(socket, caller);
    const { listeners, dispatcher, metrics, logger } = this.options;
    metrics.connections.inc({ protocol: "socketio" });

    // Requests may arrive before the automatic channels are set up; they wait for it.
    const restored = socket.recovered ? [...connection.channels()] : [];
    const ready = (async () => {
      for (const listener of listeners) await listener.connected?.(connection, restored);
    })();

    socket.onAny(async (event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (reply: unknown) => void) : undefined;
      await ready.catch(() => {});
      const reply = await dispatcher.dispatch(connection, event, args[0]);
      if (ack) ack(reply);
      else if (!reply.ok) logger.debug({ event, code: reply.error.code }, "request without ack failed");
    });

    socket.on("disconnect", (reason) => {
      this.releaseConnectWrites(socket);
      metrics.connections.dec({ protocol: "socketio" });
      logger.debug({ userId: caller.userId, tenantId: caller.tenantId, reason }, "socket disconnected");
      this.cleanups.departed(connection, ready, listeners, logger);
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
        this.releaseConnectWrites(socket);
        logger.debug({ userId: caller.userId, tenantId: caller.tenantId, recovered: socket.recovered }, "socket connected");
      },
      (err) => {
        logger.error({ err }, "connection setup failed");
        this.releaseConnectWrites(socket);
        socket.disconnect(true);
      },
    );
  }

  /** Delivers one broker message to the sockets in the channels' rooms, once per socket. */
  private deliver(message: ChannelMessage, origin: "local" | "remote"): void {
    // Commands between nodes are not events; and `to([])` would mean every socket.
    if (message.control || message.channels.length === 0) return;
    const adapter = this.io.of("/").adapter;
    const rooms = adapter.rooms;
    const keys = message.channels.map((channel) => roomKey(message.tenantId, channel));
    const localKeys = keys.filter((key) => rooms.has(key));
    if (this.options.adapter) {
      // Through the adapter to every node's rooms (tenant-scoped names; `except` is the sender's socket id, a room of its own).
      if (origin === "local") this.emit(this.io.to(keys), message);
    } else if (localKeys.length > 0 || (adapter instanceof CompactRecoveryAdapter && adapter.awaits(keys))) {
      // To every room, not only those with sockets here: recovery keeps the broadcast under the rooms
      // it names, and a dropped client of an emptied room must find it there when it comes back.
      this.emit(this.io.local.to(keys), message);
    }
    if (localKeys.length === 0) return;
    const personal = message.channels.every((channel) => channel.startsWith("user:"));
    this.options.metrics.eventsOut.inc({ event: this.options.knownEvents.has(message.event) ? message.event : "app" }, recipientCount(rooms, localKeys, message.exceptConnectionId, personal));
  }

  private emit(target: ReturnType<Server["to"]>, message: ChannelMessage): void {
    (message.exceptConnectionId ? target.except(message.exceptConnectionId) : target).emit(message.event, message.data);
  }

  /** Tells every local client the server is stopping and when to come back. */
  announceShutdown(event: ServerShutdownEvent): void {
    this.draining = true;
    this.io.local.emit("server:shutdown", event);
  }

  /**
   * Closes every client's transport (clients see `transport close` and reconnect
   * on their own, to this server once it is back or to another node) and waits
   * for their cleanups (channels, typing, presence). The broker subscription and
   * the adapter stay: events those cleanups and the rest of the stop publish
   * (`room:userLeft`, `typing:stop`, `presence:changed`) still reach the
   * Socket.IO clients of other nodes, which get this node's events only through
   * its adapter. {@link close} releases them.
   */
  async disconnectAll(): Promise<void> {
    this.io.engine.close();
    await this.cleanups.settled();
  }

  /**
   * {@link disconnectAll} if not done yet, then stops delivering and releases
   * the adapter; call it once nothing else publishes. The HTTP server is closed
   * by its owner.
   */
  async close(): Promise<void> {
    await this.disconnectAll();
    this.unsubscribeBroker();
    this.replays.clear();
    await this.io.of("/").adapter.close();
  }
}

/**
 * Wraps the namespace adapter's `restoreSession` (either adapter) for two rules:
 * - the session's missed packets are held back in `replays` until the
 *   handshake's token is checked: Socket.IO would write them before any
 *   middleware, to whoever presents the session id;
 * - with `stillAllowed`, a session that was in a conversation or call channel
 *   its user may no longer be in (a participant removed while their device was
 *   away) is not recovered: Socket.IO would replay to it what those rooms got
 *   since, the conversation's messages included. The client gets a fresh session
 *   instead (`recovered: false`) and reads history by `seq`. Other restored
 *   channels are authorized again after the connect (ChannelService), as before.
 */
function guardRecovery(io: Server, replays: WithheldReplays, stillAllowed?: (caller: Caller, channel: string) => Promise<boolean>): void {
  const adapter = io.of("/").adapter;
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    const session = await restore(pid, offset);
    // Socket.IO reads a null session as "not recoverable" (its declared type says otherwise).
    if (!session) return session;
    const caller = (session.data as Partial<SocketData> | undefined)?.caller;
    if (stillAllowed && caller) {
      const participations = session.rooms
        .map((room) => channelOfRoom(caller.tenantId, room))
        .filter((channel): channel is string => channel !== undefined && isParticipation(channel));
      // Asked together: a device that had read a hundred conversations reconnects in one round of queries.
      const allowed = await Promise.all(participations.map((channel) => stillAllowed(caller, channel).catch(() => false)));
      if (!allowed.every(Boolean)) return null as unknown as typeof session;
    }
    replays.hold(pid, session.missedPackets as unknown[][]);
    return { ...session, missedPackets: [] };
  };
}

/**
 * Sockets an emission to `keys` reaches: the union of the rooms, less the
 * excluded socket. `disjoint` says no socket is in two of the rooms, so the
 * union's size is the sum of theirs: true of personal (`user:`) rooms, since a
 * connection joins only its own user's (ChannelAuthorizer). Counting them
 * without building the union saves a Set per message for events sent to
 * several users (conversation lifecycle events, notifications); chat events
 * also name `conversation:{id}`, whose members are in those user rooms too,
 * so they take the union.
 */
function recipientCount(rooms: Map<string, Set<string>>, keys: string[], except: string | undefined, disjoint: boolean): number {
  if (keys.length === 1 || disjoint) {
    let count = 0;
    for (const key of keys) {
      const members = rooms.get(key)!;
      count += members.size - (except && members.has(except) ? 1 : 0);
    }
    return count;
  }
  const union = new Set<string>();
  for (const key of keys) for (const id of rooms.get(key)!) union.add(id);
  if (except) union.delete(except);
  return union.size;
}

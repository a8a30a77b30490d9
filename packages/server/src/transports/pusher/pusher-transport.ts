import { randomInt } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { ChannelService } from "../../core/channels/channel-service.js";
import type { Connection } from "../../core/connection.js";
import type { Metrics } from "../../metrics.js";
import type { Broker, ChannelMessage } from "../../ports/broker.js";
import type { ChannelOccupancy } from "../../ports/channel-occupancy.js";
import { reject, type UpgradeRouter } from "../upgrade-router.js";
import { ActivityMonitor } from "./activity-monitor.js";
import { ClientEvents } from "./client-events.js";
import { frameSchema, parseData, signinSchema, subscribeSchema, unsubscribeSchema, userDataSchema } from "./frames.js";
import type { PusherApps } from "./pusher-apps.js";
import { PusherConnection, pusherFrame } from "./pusher-connection.js";
import { verifyUserAuth } from "./signatures.js";
import { SubscriptionIndex } from "./subscription-index.js";
import { memberInfo, PusherSubscriptions } from "./subscriptions.js";
import type { PusherWebhooks } from "./webhooks.js";
import type { WriteCoalescer } from "../write-coalescer.js";
import { ConnectionCleanups } from "../connection-cleanups.js";

/** How long a connection closed for a missed pong may take to answer the close handshake before it is dropped. */
const CLOSE_HANDSHAKE_MS = 1000;

export interface PusherTransportOptions {
  apps: PusherApps;
  channels: ChannelService;
  occupancy: ChannelOccupancy;
  broker: Broker;
  webhooks: PusherWebhooks;
  metrics: Metrics;
  logger: Logger;
  activityTimeoutSeconds: number;
  maxPayloadBytes: number;
  /** Event names the server itself emits; others are counted as `app`. */
  knownEvents: ReadonlySet<string>;
  /** Batches each socket's frames per event-loop turn into one write. */
  coalescer: WriteCoalescer;
  /** Presence (PROTOCOL.md section 5): a connection signed in with `pusher:signin` is one of its user's devices. */
  presence?: PusherPresence;
}

/** What the transport tells presence about signed-in connections. */
export interface PusherPresence {
  connect(connection: Connection): Promise<void>;
  disconnect(connection: Connection): Promise<void>;
  /** A frame the user sent (not a ping): activity, which keeps them from turning `away`. */
  touch(connection: Connection): void;
}

/** Close codes (Pusher protocol): 4000-4099 do not reconnect, 4200-4299 reconnect at once. */
export const CLOSE = {
  appNotFound: 4001,
  unsupportedProtocol: 4007,
  noProtocol: 4008,
  unauthorized: 4009,
  reconnect: 4200,
  pongTimeout: 4201,
} as const;

const PATH = /^\/app\/([^/]+)\/?$/;
const PROTOCOLS = new Set(["5", "6", "7"]);
const MEMBERSHIP_EVENTS: Record<string, "pusher_internal:member_added" | "pusher_internal:member_removed"> = {
  "room:userJoined": "pusher_internal:member_added",
  "room:userLeft": "pusher_internal:member_removed",
};

/**
 * Pusher Channels protocol 7 at `/app/{key}` (docs/protocol.md section 9), on
 * the HTTP server Socket.IO also uses: takes only its own upgrades, keeps no
 * state beyond its sockets and their subscriptions, and delivers Broker
 * messages to local subscribers under each subscription's Pusher name.
 */
export class PusherTransport {
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, PusherConnection>();
  private readonly index = new SubscriptionIndex();
  private readonly subscriptions: PusherSubscriptions;
  private readonly clientEvents: ClientEvents;
  private readonly unsubscribeBroker: () => void;
  private stopping = false;
  /** Each closed connection's cleanup (unsubscribing, presence) still running. */
  private readonly cleanups = new ConnectionCleanups();

  constructor(
    router: UpgradeRouter,
    private readonly options: PusherTransportOptions,
  ) {
    const { channels, occupancy, webhooks, logger, broker, metrics } = options;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
    this.subscriptions = new PusherSubscriptions({ channels, occupancy, index: this.index, webhooks, logger });
    this.clientEvents = new ClientEvents(broker, webhooks);
    // The router checks the Origin allowlist before handing the upgrade over.
    router.add("/app", (req, socket, head) => this.upgrade(req, socket, head));
    this.unsubscribeBroker = broker.subscribe((message) => this.deliver(message));
    metrics.connections.set({ protocol: "pusher" }, 0);
  }

  /** Open Pusher connections on this node. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes this node's connections signed in as `userId` (4009: clients do not reconnect). */
  terminateUser(tenantId: string, userId: string): number {
    let closed = 0;
    for (const connection of this.connections.values()) {
      if (connection.app.tenantId !== tenantId || connection.user?.id !== userId) continue;
      connection.closeWith(CLOSE.unauthorized, "Connection terminated by the app");
      closed += 1;
    }
    return closed;
  }

  /**
   * Ends the subscriptions to a channel held by these users, known as the
   * connection's signed-in user, its presence member, or the user a private
   * subscription was signed for (Switchboard's `/pusher/auth` binds it). A
   * private subscription signed by the app's own backend with the `pusher`
   * library names no user: as on Pusher, it stays until it unsubscribes. Pusher has no frame for a
   * server-side unsubscribe: the client simply stops getting the channel's events.
   */
  private evict(tenantId: string, channel: string, userIds: readonly string[]): void {
    const evicted = [...this.index.entries(tenantId, channel)].filter(
      ({ connection, subscription }) =>
        userIds.includes(connection.user?.id ?? "") || userIds.includes(subscription.member?.userId ?? "") || userIds.includes(subscription.signedFor ?? ""),
    );
    // The index entry goes before unsubscribe's first await: no later event of the channel reaches them.
    for (const { connection, subscription } of evicted) {
      this.subscriptions.unsubscribe(connection, subscription.name).catch((err: unknown) => this.options.logger.error({ err }, "pusher eviction failed"));
    }
  }

  /** Tells every client to reconnect (4200) and closes; waits up to 1 s for the close handshakes. */
  async close(): Promise<void> {
    this.stopping = true;
    this.unsubscribeBroker();
    const closed = [...this.wss.clients].map((ws) => new Promise((resolve) => ws.once("close", resolve)));
    for (const connection of this.connections.values()) connection.closeWith(CLOSE.reconnect, "Server is stopping; reconnect shortly");
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
    await this.cleanups.settled();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = PATH.exec(url.pathname);
    if (!match) return reject(socket, 404, "no WebSocket endpoint here");
    const key = safeDecode(match[1]!);
    // The 101 response and pusher:connection_established, written in this same turn, leave in one write.
    this.options.coalescer.hold(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(this.options.coalescer.wrap(ws, socket), key, url.searchParams.get("protocol")));
  }

  private open(ws: WebSocket, key: string, protocol: string | null): void {
    const { apps, metrics, logger, activityTimeoutSeconds } = this.options;
    ws.on("error", (err) => logger.debug({ err: err.message }, "pusher socket error"));
    if (this.stopping) return refuse(ws, CLOSE.reconnect, "Server is stopping; reconnect shortly");
    const app = apps.withKey(key);
    if (!app) return refuse(ws, CLOSE.appNotFound, `App key ${key.slice(0, 64)} does not exist`);
    if (protocol === null) return refuse(ws, CLOSE.noProtocol, "No protocol version supplied");
    if (!PROTOCOLS.has(protocol)) return refuse(ws, CLOSE.unsupportedProtocol, `Unsupported protocol version ${protocol.slice(0, 8)}`);

    const connection = new PusherConnection(socketId(), app, ws);
    this.connections.set(connection.id, connection);
    metrics.connections.inc({ protocol: "pusher" });
    // Frames of one connection are handled one after another, and its cleanup after them.
    let queue: Promise<void> = Promise.resolve();
    const run = (task: () => Promise<void> | void): Promise<void> => {
      queue = queue.then(task).catch((err: unknown) => logger.error({ err }, "pusher frame failed"));
      return queue;
    };
    const activityMs = activityTimeoutSeconds * 1000;
    const activity = new ActivityMonitor(
      activityMs,
      Math.min(activityMs, 30_000),
      () => connection.send("pusher:ping", {}),
      () => {
        connection.closeWith(CLOSE.pongTimeout, "Pong reply not received");
        // A peer that answers no ping will not answer the close handshake either: without this, ws
        // waits 30 s for it, and a vanished presence member stays listed all that time.
        setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
      },
    );
    ws.on("message", (raw, isBinary) => {
      activity.touch();
      run(() => this.onFrame(connection, raw, isBinary));
    });
    ws.on("ping", () => activity.touch());
    ws.on("pong", () => activity.touch());
    ws.on("close", () => {
      activity.stop();
      this.connections.delete(connection.id);
      metrics.connections.dec({ protocol: "pusher" });
      // Awaited by close(): presence must hear of the departure before it closes itself.
      const cleanup = run(async () => {
        await this.subscriptions.unsubscribeAll(connection);
        if (connection.user) await this.options.presence?.disconnect(connection);
      });
      this.cleanups.track(cleanup);
    });
    connection.send("pusher:connection_established", { socket_id: connection.id, activity_timeout: activityTimeoutSeconds });
    logger.debug({ socketId: connection.id, appId: app.appId }, "pusher connected");
  }

  private async onFrame(connection: PusherConnection, raw: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) return connection.error("binary frames are not supported");
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      return connection.error("frames must be JSON");
    }
    const parsed = frameSchema.safeParse(json);
    if (!parsed.success) return connection.error("frames are { event, channel?, data? }");
    const frame = parsed.data;
    const known = frame.event.startsWith("pusher:");
    if (connection.user && frame.event !== "pusher:ping" && frame.event !== "pusher:pong") this.options.presence?.touch(connection);
    this.options.metrics.eventsIn.inc({ event: known ? frame.event : frame.event.startsWith("client-") ? "client-event" : "unknown" });
    switch (frame.event) {
      case "pusher:ping":
        return connection.send("pusher:pong", {});
      case "pusher:pong":
        return;
      case "pusher:subscribe": {
        const payload = parseData(subscribeSchema, frame.data);
        if (!payload) return connection.error("pusher:subscribe needs data { channel, auth?, channel_data? }");
        return this.subscriptions.subscribe(connection, payload);
      }
      case "pusher:unsubscribe": {
        const payload = parseData(unsubscribeSchema, frame.data);
        if (!payload) return connection.error("pusher:unsubscribe needs data { channel }");
        return this.subscriptions.unsubscribe(connection, payload.channel);
      }
      case "pusher:signin":
        return this.signin(connection, frame.data);
      default:
        if (frame.event.startsWith("client-")) return this.clientEvents.handle(connection, frame);
        return connection.error(`unsupported event ${frame.event.slice(0, 64)}`);
    }
  }

  /**
   * `pusher:signin`: a bad signature or user_data closes the connection with
   * 4009, as Pusher does. A signed-in connection counts as one of its user's
   * devices for presence; signing in again as someone else moves it over.
   */
  private async signin(connection: PusherConnection, data: unknown): Promise<void> {
    const payload = parseData(signinSchema, data);
    if (!payload || !verifyUserAuth(connection.app, connection.id, payload.user_data, payload.auth)) {
      return connection.closeWith(CLOSE.unauthorized, "Invalid signin signature");
    }
    const user = parseData(userDataSchema, payload.user_data);
    if (!user) return connection.closeWith(CLOSE.unauthorized, "user_data must be JSON with a valid user id");
    const previous = connection.user?.id;
    if (previous !== undefined && previous !== user.id) await this.options.presence?.disconnect(connection);
    connection.signIn({ id: user.id, name: user.name ?? user.id });
    connection.send("pusher:signin_success", { user_data: payload.user_data });
    if (previous !== user.id) await this.options.presence?.connect(connection);
  }

  /** Delivers one broker message to the local subscribers of its channels, under each subscription's Pusher name. */
  private deliver(message: ChannelMessage): void {
    if (message.control) {
      if (message.control.kind === "terminate_user") this.terminateUser(message.tenantId, message.control.userId);
      if (message.control.kind === "leave_channel") this.evict(message.tenantId, message.control.channel, message.control.userIds);
      return;
    }
    // A node without Pusher clients skips the per-channel lookups (a key string and an iterator each).
    if (this.index.isEmpty) return;
    const membership = MEMBERSHIP_EVENTS[message.event];
    let delivered = 0;
    // Each frame is encoded once, for every subscriber who sees it under the same name (and user id).
    const encoded = new Map<string, Buffer>();
    for (const channel of message.channels) {
      for (const { connection, subscription } of this.index.entries(message.tenantId, channel)) {
        if (connection.id === message.exceptConnectionId) continue;
        if (membership) {
          // Join/leave announcements reach Pusher clients only as presence member events.
          if (subscription.type !== "presence") continue;
          const member = message.data as { userId?: unknown; name?: unknown; info?: unknown };
          if (typeof member.userId !== "string") continue;
          const user = membership === "pusher_internal:member_added" ? { user_id: member.userId, user_info: memberInfo({ name: String(member.name ?? ""), info: member.info }) } : { user_id: member.userId };
          connection.send(membership, user, subscription.name);
        } else {
          const userId = subscription.type === "presence" ? message.userId : undefined;
          const key = userId === undefined ? subscription.name : `${subscription.name}\u0000${userId}`;
          let frame = encoded.get(key);
          if (frame === undefined) encoded.set(key, (frame = Buffer.from(pusherFrame(message.event, message.data, subscription.name, userId))));
          connection.sendEncoded(frame);
        }
        delivered += 1;
      }
    }
    if (delivered > 0) this.options.metrics.eventsOut.inc({ event: this.options.knownEvents.has(message.event) ? message.event : "app" }, delivered);
  }
}

function refuse(ws: WebSocket, code: number, message: string): void {
  ws.send(JSON.stringify({ event: "pusher:error", data: { code, message } }));
  ws.close(code, message);
}

/** A Pusher socket id: `digits.digits`, random so it is unique across nodes. */
function socketId(): string {
  return `${randomInt(1, 2 ** 47)}.${randomInt(1, 2 ** 47)}`;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

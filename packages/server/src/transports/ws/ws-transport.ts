import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { Caller } from "../../auth/caller.js";
import { TokenError, type TokenVerifier } from "../../auth/token-verifier.js";
import type { ConnectionListener } from "../../core/connection-listener.js";
import { toAppError, issueDetails } from "../../core/errors.js";
import type { Metrics } from "../../metrics.js";
import type { Broker, ChannelMessage } from "../../ports/broker.js";
import type { RequestDispatcher } from "../requests/request-dispatcher.js";
import { reject, type UpgradeRouter } from "../upgrade-router.js";
import { WsConnection } from "./ws-connection.js";
import { clientFrameSchema, echoedId, type ClientFrame } from "./ws-frames.js";
import type { WriteCoalescer } from "../write-coalescer.js";
import { ConnectionCleanups } from "../connection-cleanups.js";

export interface WsTransportOptions {
  router: UpgradeRouter;
  verifier: TokenVerifier;
  listeners: readonly ConnectionListener[];
  broker: Broker;
  dispatcher: RequestDispatcher;
  metrics: Metrics;
  logger: Logger;
  maxPayloadBytes: number;
  heartbeatMs: number;
  admits: (caller: Caller) => boolean;
  admitsAddress: (address: string) => Promise<boolean>;
  knownEvents: ReadonlySet<string>;
  /** Batches each socket's frames per event-loop turn into one write. */
  coalescer: WriteCoalescer;
}

export const WS_PATH = "/realtime/ws";

/**
 * Plain WebSocket with JSON frames (PROTOCOL.md section 9) for clients that
 * cannot use Socket.IO: `GET /realtime/ws?token=<JWT>`. Same channels, same
 * authorization, same requests as Socket.IO; channel events arrive as
 * `{ type: event, channel, data, timestamp }`.
 */
export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  /** tenant/channel -> local subscribers */
  private readonly byChannel = new Map<string, Set<WsConnection>>();
  private readonly unsubscribeBroker: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly index = {
    add: (connection: WsConnection, channel: string) => {
      const key = `${connection.caller.tenantId}/${channel}`;
      let set = this.byChannel.get(key);
      if (!set) this.byChannel.set(key, (set = new Set()));
      set.add(connection);
    },
    remove: (connection: WsConnection, channel: string) => {
      const key = `${connection.caller.tenantId}/${channel}`;
      const set = this.byChannel.get(key);
      set?.delete(connection);
      if (set?.size === 0) this.byChannel.delete(key);
    },
  };

  /** Set by {@link announceShutdown}. */
  private draining = false;
  /** Departures still running; `close` waits for them, so none runs after the database closed. */
  private readonly cleanups = new ConnectionCleanups();

  constructor(private readonly options: WsTransportOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
    options.router.add(WS_PATH, (request, socket, head) => void this.upgrade(request, socket, head));
    this.unsubscribeBroker = options.broker.subscribe((message) => this.deliver(message));
    this.heartbeat = setInterval(() => this.checkAlive(), options.heartbeatMs);
    this.heartbeat.unref();
    options.metrics.connections.set({ protocol: "ws" }, 0);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Authenticates before the upgrade: an unauthenticated client never gets a socket. */
  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A draining node takes no new clients: they retry and a balancer sends them elsewhere.
    if (this.draining) return reject(socket, 503, "server is stopping");
    if (!(await this.options.admitsAddress(request.socket.remoteAddress ?? "unknown"))) return reject(socket, 429, "too many connection attempts");
    let caller: Caller;
    try {
      caller = await this.options.verifier.verify(tokenOf(request));
    } catch (err) {
      const reason = err instanceof TokenError ? err.code : "token_invalid";
      return reject(socket, 401, reason);
    }
    if (!this.options.admits(caller)) return reject(socket, 429, "too_many_connections");
    // The stop may have begun while the token was checked.
    if (this.draining) return reject(socket, 503, "server is stopping");
    this.wss.handleUpgrade(request, socket, head, (ws) => void this.open(this.options.coalescer.wrap(ws, socket), caller));
  }

  private async open(ws: WebSocket, caller: Caller): Promise<void> {
    const connection = new WsConnection(`ws-${randomUUID()}`, caller, ws, this.index);
    const { listeners, logger, metrics } = this.options;
    this.connections.add(connection);
    metrics.connections.inc({ protocol: "ws" });
    const ready = (async () => {
      for (const listener of listeners) await listener.connected?.(connection, []);
    })();
    ws.on("pong", () => (connection.alive = true));
    ws.on("message", (raw, isBinary) => void ready.then(() => this.onFrame(connection, raw, isBinary)));
    ws.on("error", (err) => logger.debug({ err: err.message }, "ws client error"));
    ws.on("close", () => {
      this.connections.delete(connection);
      metrics.connections.dec({ protocol: "ws" });
      for (const channel of [...connection.channels()]) connection.unsubscribe(channel);
      this.cleanups.departed(connection, ready, listeners, logger);
    });
    try {
      await ready;
    } catch (err) {
      logger.error({ err }, "ws connection setup failed");
      return ws.close(1011, "setup failed");
    }
    connection.send({ type: "connected", connectionId: connection.id, userId: caller.userId, tenantId: caller.tenantId, serverTime: new Date().toISOString() });
  }

  private async onFrame(connection: WsConnection, raw: RawData, isBinary: boolean): Promise<void> {
    let frame: ClientFrame;
    try {
      if (isBinary) throw new Error("binary frames are not supported");
      const json: unknown = JSON.parse(raw.toString());
      const parsed = clientFrameSchema.safeParse(json);
      if (!parsed.success) {
        const details = issueDetails(parsed.error);
        return connection.send({ type: "error", ...echoedId(json), code: "bad_request", message: "invalid frame", details });
      }
      frame = parsed.data;
    } catch (err) {
      return connection.send({ type: "error", code: "bad_request", message: (err as Error).message.startsWith("binary") ? "binary frames are not supported" : "frames must be JSON" });
    }
    const { dispatcher } = this.options;
    const id = frame.id === undefined ? {} : { id: frame.id };
    try {
      switch (frame.type) {
        case "ping":
          return connection.send({ type: "pong", ...id, timestamp: new Date().toISOString() });
        // As the requests they are: rate limited (room family), audited and counted like room:join / room:leave.
        case "subscribe":
        case "unsubscribe": {
          const ack = await dispatcher.dispatch(connection, frame.type === "subscribe" ? "room:join" : "room:leave", { room: frame.channel });
          if (!ack.ok) return connection.send({ type: "error", ...id, ...ack.error });
          return connection.send({ type: frame.type === "subscribe" ? "subscribed" : "unsubscribed", ...id, channel: frame.channel });
        }
        case "request": {
          const ack = await dispatcher.dispatch(connection, frame.event, frame.payload);
          return connection.send({ type: "response", ...id, ...ack });
        }
      }
    } catch (err) {
      connection.send({ type: "error", ...id, ...toAppError(err).toBody() });
    }
  }

  /** Delivers a broker message once to each local subscriber of any of its channels. */
  private deliver(message: ChannelMessage): void {
    // Every broker message comes here, on servers with no plain-WebSocket client too: no work without one.
    if (message.control || this.connections.size === 0) return;
    let timestamp: string | undefined;
    const sent = new Set<WsConnection>();
    for (const channel of message.channels) {
      // Encoded once per channel, for all its subscribers (the frame names the channel).
      let frame: Buffer | undefined;
      for (const connection of this.byChannel.get(`${message.tenantId}/${channel}`) ?? []) {
        if (sent.has(connection) || connection.id === message.exceptConnectionId) continue;
        sent.add(connection);
        timestamp ??= new Date().toISOString();
        frame ??= Buffer.from(JSON.stringify({ type: message.event, channel, data: message.data, timestamp }));
        connection.sendEncoded(frame);
      }
    }
    if (sent.size > 0) this.options.metrics.eventsOut.inc({ event: this.options.knownEvents.has(message.event) ? message.event : "app" }, sent.size);
  }

  private checkAlive(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }

  /** Sends one frame to every local client (server-wide notices such as `server:resync`). */
  broadcastAll(type: string, data: unknown): void {
    for (const connection of this.connections) connection.send({ type, data, timestamp: new Date().toISOString() });
  }

  announceShutdown(reconnectInMs: number): void {
    this.draining = true;
    for (const connection of this.connections) connection.send({ type: "server:shutdown", reconnectInMs });
  }

  /**
   * Closes every client with 1012 (service restart: clients should
   * reconnect), waits up to 1 s for the close handshakes (then drops the
   * rest), and then for every connection's cleanup (presence, calls), which
   * the stop needs done before the database closes.
   */
  async close(): Promise<void> {
    this.draining = true;
    clearInterval(this.heartbeat);
    this.unsubscribeBroker();
    const closed = [...this.wss.clients].map((ws) => new Promise((resolve) => ws.once("close", resolve)));
    for (const connection of this.connections) connection.socket.close(1012, "server restarting");
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.cleanups.settled();
  }
}

function tokenOf(request: IncomingMessage): string | undefined {
  const url = new URL(request.url ?? "/", "http://localhost");
  const fromQuery = url.searchParams.get("token");
  if (fromQuery) return fromQuery;
  const header = request.headers.authorization;
  return typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

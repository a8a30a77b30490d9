import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { ClientToServerEvents, ConnectedEvent, RequestName, ServerToClientEvents } from "@switchboard/protocol";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { SwitchboardError } from "./errors.js";
import { TokenSource, type TokenOptions } from "./token-source.js";
import type { AckData, ConnectionStatus, RequestPayload, ServerEventData, ServerEventName, Unsubscribe } from "./types.js";

export interface ConnectionOptions extends TokenOptions {
  /** Server base URL, e.g. `https://switchboard.example.com`. */
  url: string;
  /** How long a request waits for the connection and its answer (ms). Default 10000. */
  requestTimeoutMs?: number;
  /** Reconnection backoff. */
  reconnect?: BackoffOptions;
  /** Connect at once (default true); else call `connect()`. */
  autoConnect?: boolean;
  /**
   * Extra Socket.IO options (e.g. `path`; `transports`, default `["websocket"]`:
   * add `"polling"` for networks that block WebSocket, with sticky sessions
   * when there are several nodes). Reconnection and auth are the client's own.
   */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

/** Why the client (re)synchronised: a new connection after a loss, or the server's `server:resync`. */
export interface ResyncEvent {
  reason: "reconnect" | string;
  /** True when Socket.IO connection state recovery restored rooms and missed events. */
  recovered: boolean;
}

export type ConnectionEvents = {
  status: (status: ConnectionStatus) => void;
  /** Each successful handshake; `reconnect` is false the first time. */
  connected: (event: ConnectedEvent, reconnect: boolean) => void;
  /** Local state may have missed events: fetch gaps, re-read counts. */
  resync: (event: ResyncEvent) => void;
  /** An error not tied to a request (e.g. a refused handshake). */
  error: (error: SwitchboardError) => void;
};

type WireSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type LooseSocket = { timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> } };
type Ack = { ok: true; data?: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };

/**
 * One Socket.IO connection with Switchboard's rules: token renewal on
 * `token_expired` (refused handshake or live connection cut), jittered
 * exponential reconnection (Socket.IO's own reconnection is off, because it
 * does not retry refused handshakes or server-side disconnects), the server's
 * `server:shutdown` delay, and typed requests.
 */
export class Connection {
  readonly socket: WireSocket;
  readonly events = new Emitter<ConnectionEvents>();
  private currentStatus: ConnectionStatus;
  private readonly tokens: TokenSource;
  private readonly backoff: Backoff;
  private readonly requestTimeoutMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped: boolean;
  private everConnected = false;
  private shutdownDelayMs: number | undefined;
  private idle = false;
  private session: ConnectedEvent | undefined;
  private readonly removeNetworkListeners: () => void;

  constructor(options: ConnectionOptions) {
    this.tokens = new TokenSource(options);
    this.backoff = new Backoff(options.reconnect);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.socket = io(options.url, {
      forceNew: true,
      // WebSocket only by default: one TCP connection per session, so several
      // nodes need no sticky load balancing (README "Several nodes") and there
      // are no polling round trips. Pass `socket.transports` to allow polling.
      transports: ["websocket"],
      ...options.socket,
      autoConnect: false,
      reconnection: false,
      auth: (cb) => {
        this.tokens.get().then(
          (token) => cb({ token }),
          () => cb({}),
        );
      },
    }) as WireSocket;
    this.stopped = options.autoConnect === false;
    this.currentStatus = this.stopped ? "offline" : "connecting";
    this.wire();
    this.removeNetworkListeners = this.watchNetwork();
    if (!this.stopped) this.socket.connect();
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** The current session (user, tenant, socket id) while connected. */
  get connectedEvent(): ConnectedEvent | undefined {
    return this.currentStatus === "connected" ? this.session : undefined;
  }

  /** (Re)starts connecting after `disconnect()` or a fatal refusal. */
  connect(): void {
    this.stopped = false;
    this.idle = false;
    this.backoff.reset();
    if (this.socket.connected) return;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    this.attempt();
  }

  /** Closes the connection and stops reconnecting; status becomes `offline`. */
  disconnect(): void {
    this.stopped = true;
    this.clearRetry();
    this.socket.disconnect();
    this.setStatus("offline");
  }

  /** Disconnects for good and removes global listeners. */
  close(): void {
    this.disconnect();
    this.removeNetworkListeners();
  }

  /**
   * Sends a request and resolves with its ack data. Waits for the connection
   * first (up to the timeout). Rejects with a {@link SwitchboardError}: the
   * server's code, or `unavailable` when offline or unanswered in time.
   */
  async request<E extends RequestName>(event: E, payload: RequestPayload<E>, options: { timeoutMs?: number } = {}): Promise<AckData<E>> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    await this.whenConnected(timeoutMs, event);
    let ack: Ack;
    try {
      ack = (await (this.socket as unknown as LooseSocket).timeout(Math.max(deadline - Date.now(), 1)).emitWithAck(event, payload)) as Ack;
    } catch {
      throw new SwitchboardError("unavailable", `${event}: no answer (connection lost or timed out after ${timeoutMs} ms)`, { reason: "timeout" });
    }
    if (!ack || typeof ack !== "object") throw new SwitchboardError("internal", `${event}: malformed answer`);
    if (!ack.ok) throw SwitchboardError.fromBody(ack.error as never);
    return (ack.data ?? {}) as AckData<E>;
  }

  /** Listens to a server event (first argument only: recovery adds a trailing offset). */
  on<K extends ServerEventName>(event: K, handler: (data: ServerEventData<K>) => void): Unsubscribe {
    return this.onAny(event, handler as (data: unknown) => void);
  }

  /** Listens to any event by name, e.g. an app event published to a channel. */
  onAny(event: string, handler: (data: unknown) => void): Unsubscribe {
    const listener = (data: unknown) => handler(data);
    const socket = this.socket as unknown as { on(e: string, l: (d: unknown) => void): void; off(e: string, l: (d: unknown) => void): void };
    socket.on(event, listener);
    return () => socket.off(event, listener);
  }

  /** Resolves once connected; rejects with `unavailable` after `timeoutMs` or when the client is stopped. */
  whenConnected(timeoutMs = this.requestTimeoutMs, what = "request"): Promise<void> {
    if (this.currentStatus === "connected") return Promise.resolve();
    if (this.stopped) return Promise.reject(new SwitchboardError("unavailable", `${what}: the client is offline`, { reason: "offline" }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new SwitchboardError("unavailable", `${what}: not connected within ${timeoutMs} ms`, { reason: "offline" }));
      }, timeoutMs);
      const off = this.events.on("status", (status) => {
        if (status === "connected") {
          clearTimeout(timer);
          off();
          resolve();
        } else if (status === "offline" && this.stopped) {
          clearTimeout(timer);
          off();
          reject(new SwitchboardError("unavailable", `${what}: the client is offline`, { reason: "offline" }));
        }
      });
    });
  }

  private wire(): void {
    const socket = this.socket;
    socket.on("connected", (event) => {
      const reconnect = this.everConnected;
      this.everConnected = true;
      this.session = event;
      this.shutdownDelayMs = undefined;
      this.backoff.reset();
      this.setStatus("connected");
      this.events.emit("connected", event, reconnect);
      if (reconnect) this.events.emit("resync", { reason: "reconnect", recovered: event.recovered });
    });
    socket.on("server:shutdown", ({ reconnectInMs }) => {
      this.shutdownDelayMs = reconnectInMs;
    });
    socket.on("server:resync", ({ reason }) => this.events.emit("resync", { reason, recovered: false }));
    socket.on("token_expired", () => this.tokens.invalidate());
    socket.on("session:idle", () => {
      this.idle = true;
    });
    socket.on("disconnect", (reason) => {
      if (this.stopped || reason === "io client disconnect") return;
      if (this.idle) {
        // Automatic logoff is the server's decision; coming back silently would defeat it.
        this.stopped = true;
        this.events.emit("error", new SwitchboardError("unauthorized", "session logged off after inactivity", { reason: "idle" }));
        this.setStatus("offline");
        return;
      }
      this.setStatus("reconnecting");
      const delay = this.shutdownDelayMs !== undefined ? this.backoff.spread(this.shutdownDelayMs) : this.backoff.next();
      this.shutdownDelayMs = undefined;
      this.scheduleRetry(delay);
    });
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
      if (this.stopped) return;
      const code = err.data?.code;
      if (code === "token_expired" || code === "token_invalid" || code === "token_missing") {
        const error = new SwitchboardError(code, `connection refused: ${code}`);
        if (!this.tokens.renewable) {
          // A fixed token will be refused again: retrying would only hammer the server.
          this.stopped = true;
          this.events.emit("error", error);
          this.setStatus("offline");
          return;
        }
        this.tokens.invalidate();
        this.events.emit("error", error);
      }
      this.setStatus(this.everConnected ? "reconnecting" : "connecting");
      this.scheduleRetry(this.backoff.next());
    });
  }

  private attempt(): void {
    this.clearRetry();
    if (this.stopped || this.socket.connected) return;
    if (!isOnline()) return this.setStatus("offline");
    this.socket.connect();
  }

  private scheduleRetry(delayMs: number): void {
    this.clearRetry();
    if (!isOnline()) return this.setStatus("offline");
    this.retryTimer = setTimeout(() => this.attempt(), delayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.events.emit("status", status);
  }

  /** In browsers: pause retries while offline, retry at once when the network returns. */
  private watchNetwork(): () => void {
    const target = globalThis as { addEventListener?: (e: string, l: () => void) => void; removeEventListener?: (e: string, l: () => void) => void };
    if (typeof target.addEventListener !== "function" || typeof navigator === "undefined" || !("onLine" in navigator)) return () => {};
    const online = () => {
      if (this.stopped || this.socket.connected) return;
      this.backoff.reset();
      this.setStatus(this.everConnected ? "reconnecting" : "connecting");
      this.attempt();
    };
    target.addEventListener("online", online);
    return () => target.removeEventListener?.("online", online);
  }
}

function isOnline(): boolean {
  return typeof navigator === "undefined" || !("onLine" in navigator) || navigator.onLine !== false;
}

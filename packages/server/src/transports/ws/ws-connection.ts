import type { WebSocket } from "ws";
import type { Caller } from "../../auth/caller.js";
import type { Connection } from "../../core/connection.js";

/** A plain WebSocket client seen by the core as a {@link Connection}. */
export class WsConnection implements Connection {
  private readonly subscribed = new Set<string>();
  /** Set on every pong; the heartbeat closes connections that stop answering. */
  alive = true;

  constructor(
    readonly id: string,
    readonly caller: Caller,
    readonly socket: WebSocket,
    private readonly index: { add(connection: WsConnection, channel: string): void; remove(connection: WsConnection, channel: string): void },
  ) {}

  subscribe(channel: string): void {
    if (this.subscribed.has(channel)) return;
    this.subscribed.add(channel);
    this.index.add(this, channel);
  }

  unsubscribe(channel: string): void {
    if (!this.subscribed.delete(channel)) return;
    this.index.remove(this, channel);
  }

  channels(): Iterable<string> {
    return this.subscribed;
  }

  isSubscribed(channel: string): boolean {
    return this.subscribed.has(channel);
  }

  /** Sends a frame unless the socket is closing. */
  send(frame: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}

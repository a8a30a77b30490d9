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

  notify(event: string, data: unknown): void {
    this.send({ type: event, data, timestamp: new Date().toISOString() });
  }

  /**
   * 1008 (policy violation): limits, expiry, idleness. A client that does not
   * answer the close handshake within a second (a slow consumer cannot even
   * read the close frame) is cut off, so its buffers are freed at once.
   */
  close(reason: string): void {
    this.socket.close(1008, reason.slice(0, 120));
    setTimeout(() => this.socket.terminate(), 1000).unref();
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends a frame unless the socket is closing. */
  send(frame: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /**
   * Sends a frame already encoded as UTF-8 JSON: a broadcast encodes its frame
   * once for every subscriber of a channel, and `ws` writes the same buffer to
   * each socket without copying it.
   */
  sendEncoded(frame: Buffer): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame, { binary: false });
  }
}

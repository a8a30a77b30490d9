import type { WebSocket } from "ws";
import type { Caller } from "../../auth/caller.js";
import type { PusherApp } from "../../config/config.js";
import type { Connection } from "../../core/connection.js";
import type { PusherChannel } from "./channel-names.js";
import { encodeData } from "./frames.js";

/** A user signed in with `pusher:signin`. */
export interface PusherUser {
  id: string;
  name: string;
}

/** One Pusher channel a connection is subscribed to; `member` for presence. */
export interface PusherSubscription extends PusherChannel {
  member?: { userId: string; info: unknown };
  /**
   * The user a private subscription was signed for, when the signature covers
   * `channel_data { user_id }` (Switchboard's `/pusher/auth` signs so): channel
   * evictions (a participant removed from a conversation) reach it.
   */
  signedFor?: string;
}

/** Client events allowed per connection per second (Pusher's limit). */
export const CLIENT_EVENTS_PER_SECOND = 10;

/**
 * A Pusher WebSocket seen by the core as a {@link Connection}. Its id is the
 * Pusher `socket_id` (`digits.digits`). Until `pusher:signin` it has no user:
 * its caller is an anonymous id that can never be a token subject. Pusher
 * subscriptions are per Pusher name and kept by the transport, so `subscribe`
 * from the core is not used for this protocol.
 */
export class PusherConnection implements Connection {
  readonly subscriptions = new Map<string, PusherSubscription>();
  private signedIn?: PusherUser;
  private windowStart = 0;
  private windowCount = 0;

  constructor(
    readonly id: string,
    readonly app: PusherApp,
    private readonly socket: WebSocket,
  ) {}

  get caller(): Caller {
    const user = this.signedIn;
    return { userId: user?.id ?? `#pusher-${this.id}`, tenantId: this.app.tenantId, name: user?.name ?? "", roles: [] };
  }

  get user(): PusherUser | undefined {
    return this.signedIn;
  }

  signIn(user: PusherUser): void {
    this.signedIn = user;
  }

  subscribe(): void {}

  unsubscribe(): void {}

  *channels(): Iterable<string> {
    for (const subscription of this.subscriptions.values()) yield subscription.channel;
  }

  /** Pusher connections make no requests that join by use; a walk over a handful of subscriptions. */
  isSubscribed(channel: string): boolean {
    for (const joined of this.channels()) if (joined === channel) return true;
    return false;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Sends one Pusher frame; `data` objects are JSON-encoded into a string as Pusher does. */
  send(event: string, data?: unknown, channel?: string, userId?: string): void {
    if (this.isOpen) this.socket.send(pusherFrame(event, data, channel, userId));
  }

  /**
   * Sends a frame already encoded by {@link pusherFrame} (as UTF-8): a broadcast
   * encodes its frame once for every subscriber of a channel, and `ws` writes
   * the same buffer to each socket without copying it.
   */
  sendEncoded(frame: Buffer): void {
    if (this.isOpen) this.socket.send(frame, { binary: false });
  }

  /** `pusher:error` without closing (client event refusals, rate limits). */
  error(message: string, code: number | null = null): void {
    if (!this.isOpen) return;
    this.socket.send(JSON.stringify({ event: "pusher:error", data: { code, message } }));
  }

  /** Core policies (limits, slow consumers) close with 4100: "over capacity, reconnect after a back-off". */
  close(reason: string): void {
    this.closeWith(4100, reason);
  }

  notify(event: string, data: unknown): void {
    this.send(event, data);
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** `pusher:error` with a 4xxx code, then a WebSocket close with the same code (its range tells clients whether to reconnect). */
  closeWith(code: number, message: string): void {
    this.error(message, code);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, message);
  }

  /** Counts a client event against the per-second limit; false when over it. */
  takeClientEvent(now = Date.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount += 1;
    return this.windowCount <= CLIENT_EVENTS_PER_SECOND;
  }
}

/** A Pusher frame as text: `{ event, channel?, data?, user_id? }`, `data` JSON-encoded into a string as Pusher does. */
export function pusherFrame(event: string, data?: unknown, channel?: string, userId?: string): string {
  const frame: Record<string, unknown> = { event };
  if (channel !== undefined) frame.channel = channel;
  if (data !== undefined) frame.data = encodeData(data);
  if (userId !== undefined) frame.user_id = userId;
  return JSON.stringify(frame);
}

import type { Participant } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import type { Unsubscribe } from "../types.js";
import { RefCounts } from "./ref-counts.js";

/**
 * App channels (PROTOCOL.md section 3): join/leave reference counted and
 * rejoined after a reconnect that did not recover the session.
 *
 * Socket.IO delivers a channel event under its own name without the channel
 * it came from, so `on(channel, event)` receives `event` from every channel
 * this client joined; use distinct event names (or put the id in the data)
 * when that matters.
 */
export class ChannelsService {
  private readonly joined = new RefCounts();

  constructor(private readonly connection: Connection) {
    connection.events.on("connected", (event, reconnect) => {
      if (!reconnect || event.recovered) return;
      for (const room of this.joined.keys()) void this.connection.request("room:join", { room }).catch(() => {});
    });
  }

  /** Joins a channel (counted: each join needs its own leave). Rejects with `forbidden` when not allowed. */
  async join(channel: string): Promise<void> {
    const first = this.joined.add(channel);
    if (!first) return;
    try {
      await this.connection.request("room:join", { room: channel });
    } catch (err) {
      this.joined.remove(channel);
      throw err;
    }
  }

  /** Leaves a channel once its last holder leaves. */
  async leave(channel: string): Promise<void> {
    if (this.joined.remove(channel) && this.connection.status === "connected") await this.connection.request("room:leave", { room: channel });
  }

  async participants(channel: string): Promise<Participant[]> {
    return (await this.connection.request("room:participants", { room: channel })).participants;
  }

  /**
   * Listens to an app event, joining the channel first (built-in channels such
   * as `user:`/`tenant:` need no join and are not joined). Returns a function
   * that stops listening and leaves; `joined` settles with the join result.
   */
  on<T = unknown>(channel: string, event: string, handler: (data: T) => void): Unsubscribe & { joined: Promise<void> } {
    const off = this.connection.onAny(event, handler as (data: unknown) => void);
    const automatic = /^(user|tenant|role):/.test(channel);
    const joined = automatic ? Promise.resolve() : this.join(channel);
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      off();
      if (!automatic) void joined.then(() => this.leave(channel)).catch(() => {});
    };
    return Object.assign(stop, { joined });
  }
}

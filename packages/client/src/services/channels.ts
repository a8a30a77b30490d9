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
  /** Channels the server confirmed on the current connection's lineage. */
  private readonly confirmed = new Set<string>();

  constructor(private readonly connection: Connection) {
    connection.events.on("connected", (event, reconnect) => {
      if (reconnect && event.recovered) return;
      if (reconnect) this.confirmed.clear();
      for (const room of this.joined.keys()) if (!this.confirmed.has(room)) void this.request(room).catch(() => {});
    });
  }

  /**
   * Joins a channel (counted: each join needs its own leave). Rejects with
   * `forbidden` when not allowed. When it rejects with `unavailable` (not
   * connected in time) the channel stays wanted and is joined at the next
   * connection; call `leave` to give it up.
   */
  async join(channel: string): Promise<void> {
    const first = this.joined.add(channel);
    if (!first) return;
    try {
      await this.request(channel);
    } catch (err) {
      if ((err as { code?: string }).code !== "unavailable") this.joined.remove(channel);
      throw err;
    }
  }

  private async request(room: string): Promise<void> {
    await this.connection.request("room:join", { room });
    if (this.joined.keys().includes(room)) this.confirmed.add(room);
  }

  /** Leaves a channel once its last holder leaves. */
  async leave(channel: string): Promise<void> {
    if (!this.joined.remove(channel)) return;
    this.confirmed.delete(channel);
    if (this.connection.status === "connected") await this.connection.request("room:leave", { room: channel });
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
      // Leave whether the join succeeded or is still wanted after `unavailable`; a refused join holds nothing.
      if (!automatic) void joined.then(
        () => this.leave(channel),
        (err: { code?: string }) => (err.code === "unavailable" ? this.leave(channel) : undefined),
      ).catch(() => {});
    };
    return Object.assign(stop, { joined });
  }
}

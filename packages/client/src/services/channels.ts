import type { Participant } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import type { Unsubscribe } from "../types.js";
import { Registrations } from "./registrations.js";

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
  /** Channels joined, by holder, and which of them the current session holds on the server. */
  private readonly joined = new Registrations();

  constructor(private readonly connection: Connection) {
    connection.events.on("connected", (event, reconnect) => {
      if (reconnect && event.recovered) {
        // Left while disconnected: a recovered session still holds them.
        for (const room of this.joined.takeDropped()) void this.connection.request("room:leave", { room }).catch(() => {});
      } else if (reconnect) {
        this.joined.reset();
      }
      // Wanted but not held by this session: joined while offline (`unavailable`), or all of them after a new session.
      for (const room of this.joined.held()) void this.register(room).catch(() => {});
    });
  }

  /**
   * Joins a channel (counted: each join needs its own leave). Rejects with
   * `forbidden` when not allowed. When it rejects with `unavailable` (not
   * connected in time) the channel stays wanted and is joined at the next
   * connection; call `leave` to give it up.
   */
  async join(channel: string): Promise<void> {
    this.joined.hold([channel]);
    try {
      // A join while another is on the wire waits for its answer, and asks again if that one failed.
      await this.register(channel);
    } catch (err) {
      if ((err as { code?: string }).code !== "unavailable") this.joined.release([channel]);
      throw err;
    }
  }

  /** `room:join` for one channel, unless this session holds it or a join of it is on the wire. */
  private async register(room: string): Promise<void> {
    await this.joined.ensure([room], () => this.connection.request("room:join", { room }));
  }

  /** Leaves a channel once its last holder leaves (while disconnected: once the session is back, if it kept it). */
  async leave(channel: string): Promise<void> {
    const connected = this.connection.status === "connected";
    if (this.joined.release([channel], !connected).length > 0 && connected) await this.connection.request("room:leave", { room: channel });
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

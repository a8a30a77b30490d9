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
  /** Joins on the wire, by channel: a second join of the channel waits for the first one's answer. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Channels the server had confirmed and this client left while disconnected
   * (nothing can be sent then). A recovered session still holds them, so they
   * are left once it is back; a new session never had them.
   */
  private readonly leftOffline = new Set<string>();

  constructor(private readonly connection: Connection) {
    connection.events.on("connected", (event, reconnect) => {
      if (reconnect && event.recovered) {
        for (const room of this.leftOffline) if (!this.joined.has(room)) void this.connection.request("room:leave", { room }).catch(() => {});
      } else if (reconnect) {
        this.confirmed.clear();
      }
      this.leftOffline.clear();
      // Wanted but not held by this session: joined while offline (`unavailable`), or all of them after a new session.
      for (const room of this.joined.keys()) if (!this.confirmed.has(room) && !this.inFlight.has(room)) void this.track(room).catch(() => {});
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
    // A later holder shares the answer of a join still on the wire: refused, it is refused for both.
    const answer = first ? this.track(channel) : this.inFlight.get(channel);
    if (!answer) return;
    try {
      await answer;
    } catch (err) {
      if ((err as { code?: string }).code !== "unavailable") this.joined.remove(channel);
      throw err;
    }
  }

  /** Sends `room:join`, recorded in {@link inFlight} until answered. */
  private track(room: string): Promise<void> {
    const answer = this.request(room);
    this.inFlight.set(room, answer);
    const settled = () => {
      if (this.inFlight.get(room) === answer) this.inFlight.delete(room);
    };
    answer.then(settled, settled);
    return answer;
  }

  private async request(room: string): Promise<void> {
    await this.connection.request("room:join", { room });
    if (this.joined.has(room)) this.confirmed.add(room);
  }

  /** Leaves a channel once its last holder leaves (while disconnected: once the session is back, if it kept it). */
  async leave(channel: string): Promise<void> {
    if (!this.joined.remove(channel)) return;
    const held = this.confirmed.delete(channel);
    if (this.connection.status === "connected") await this.connection.request("room:leave", { room: channel });
    else if (held) this.leftOffline.add(channel);
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

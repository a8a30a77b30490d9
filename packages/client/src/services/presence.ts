import type { ChosenStatus, CustomStatus, PresenceActivityEvent, PresenceInfo, Viewer } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import type { Unsubscribe } from "../types.js";
import { Registrations } from "./registrations.js";

type PresenceEvents = {
  /** A user's known presence changed (from an ack or `presence:changed`). */
  change: (presence: PresenceInfo) => void;
  /** The viewer list of a watched resource changed. */
  viewers: (resource: string, viewers: readonly Viewer[]) => void;
};

/**
 * Presence (PROTOCOL.md section 5). Subscriptions and viewed resources are
 * reference counted (several components may watch the same user or record)
 * and restored after a reconnect, since the server keeps them per connection
 * (viewing never survives a reconnect).
 */
export class PresenceService {
  readonly events = new Emitter<PresenceEvents>();
  private readonly known = new Map<string, PresenceInfo>();
  /** Users followed (`presence:subscribe`), by holder. */
  private readonly subscribed = new Registrations();
  /** Resources viewed (`presence:setActivity`), by holder. */
  private readonly viewing = new Registrations();
  private readonly viewerLists = new Map<string, readonly Viewer[]>();

  constructor(private readonly connection: Connection) {
    connection.on("presence:changed", (info) => this.remember([info]));
    connection.on("presence:activity", (event) => this.activity(event));
    connection.events.on("connected", (event, reconnect) => {
      if (!reconnect) return;
      const users = this.subscribed.held();
      // Unfollowed while disconnected: a recovered session still follows them.
      const dropped = event.recovered ? this.subscribed.takeDropped() : [];
      if (dropped.length) void this.request("presence:unsubscribe", dropped).catch(() => {});
      // A recovered session kept its subscriptions (Socket.IO rooms); a new one has none.
      if (!event.recovered) this.subscribed.reset();
      if (users.length && !event.recovered) void this.subscribed.ensure(users, (missing) => this.request("presence:subscribe", missing)).catch(() => {});
      else if (users.length) void this.get(users).catch(() => {});
      // Viewing never survives a reconnect, recovered or not.
      this.viewing.reset();
      for (const resource of this.viewing.held()) void this.viewing.ensure([resource], () => this.sendActivity(resource, true)).catch(() => {});
    });
  }

  /** Last known presence of a user (from a request or a change event). */
  peek(userId: string): PresenceInfo | undefined {
    return this.known.get(userId);
  }

  /** Sets the caller's status (`online` returns to automatic); `custom: null` clears the custom status. */
  async setStatus(status: ChosenStatus, custom?: CustomStatus | null): Promise<PresenceInfo> {
    const { presence } = await this.connection.request("presence:setStatus", { status, ...(custom !== undefined && { custom }) });
    return presence;
  }

  async get(userIds: string[]): Promise<PresenceInfo[]> {
    return this.request("presence:get", userIds);
  }

  /**
   * Follows users' presence: resolves with their current state; `change`
   * events follow. Call the returned function to stop (counted per call).
   */
  async subscribe(userIds: string[]): Promise<{ presence: PresenceInfo[]; unsubscribe: Unsubscribe }> {
    this.subscribed.hold(userIds);
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      const connected = this.connection.status === "connected";
      const removed = this.subscribed.release(userIds, !connected);
      if (removed.length && connected) void this.request("presence:unsubscribe", removed).catch(() => {});
    };
    try {
      const answered = new Map((await this.subscribed.ensure(userIds, (missing) => this.request("presence:subscribe", missing))).flat().map((p) => [p.userId, p]));
      const rest = userIds.filter((id) => !answered.has(id));
      const others = new Map((rest.length ? await this.get(rest) : []).map((p) => [p.userId, p]));
      const presence = [...new Set(userIds)].map((id) => answered.get(id) ?? others.get(id)).filter((p): p is PresenceInfo => p !== undefined);
      return { presence, unsubscribe };
    } catch (err) {
      unsubscribe();
      throw err;
    }
  }

  /**
   * Marks the caller as viewing `resource` (e.g. `patient:42`) until the
   * returned function is called; the viewer list is kept current and sent
   * as `viewers` events. Re-announced after every reconnect.
   */
  async watchResource(resource: string): Promise<{ viewers: readonly Viewer[]; stop: Unsubscribe }> {
    this.viewing.hold([resource]);
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      if (this.viewing.release([resource]).length > 0) {
        this.viewerLists.delete(resource);
        if (this.connection.status === "connected") void this.sendActivity(resource, false).catch(() => {});
      }
    };
    try {
      const [announced] = await this.viewing.ensure([resource], () => this.sendActivity(resource, true));
      const viewers = announced ?? this.viewerLists.get(resource) ?? (await this.viewers(resource));
      return { viewers, stop };
    } catch (err) {
      stop();
      throw err;
    }
  }

  /** Current viewers of a resource. */
  async viewers(resource: string): Promise<Viewer[]> {
    return (await this.connection.request("presence:viewers", { resource })).viewers;
  }

  /** The last known viewer list of a watched resource. */
  viewersOf(resource: string): readonly Viewer[] | undefined {
    return this.viewerLists.get(resource);
  }

  on<K extends keyof PresenceEvents>(event: K, listener: PresenceEvents[K]): Unsubscribe {
    return this.events.on(event, listener);
  }

  private async request(event: "presence:get" | "presence:subscribe" | "presence:unsubscribe", userIds: string[]): Promise<PresenceInfo[]> {
    const { presence } = await this.connection.request(event, { userIds });
    this.remember(presence);
    return presence;
  }

  private async sendActivity(resource: string, active: boolean): Promise<Viewer[]> {
    const { viewers } = await this.connection.request("presence:setActivity", { resource, active });
    if (active && this.viewing.held().includes(resource)) this.setViewers(resource, viewers);
    return viewers;
  }

  private remember(list: PresenceInfo[]): void {
    for (const info of list) {
      const before = this.known.get(info.userId);
      this.known.set(info.userId, info);
      if (!before || JSON.stringify(before) !== JSON.stringify(info)) this.events.emit("change", info);
    }
  }

  private activity(event: PresenceActivityEvent): void {
    const list = this.viewerLists.get(event.resource);
    if (!list) return;
    const without = list.filter((v) => v.userId !== event.userId);
    if (!event.active) return this.setViewers(event.resource, without);
    if (without.length !== list.length) return;
    this.setViewers(event.resource, [...list, { userId: event.userId, name: event.name, since: new Date().toISOString() }]);
  }

  private setViewers(resource: string, viewers: readonly Viewer[]): void {
    this.viewerLists.set(resource, viewers);
    this.events.emit("viewers", resource, viewers);
  }
}

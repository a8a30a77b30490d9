import type { PresenceActivityEvent, Viewer } from "@switchboard/protocol";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { PresenceStore, PresenceViewer } from "../../ports/presence-store.js";
import type { ChannelAuthorizer } from "../channels/channel-authorizer.js";
import type { Connection } from "../connection.js";
import { AppError } from "../errors.js";
import type { KeyedLock } from "./keyed-lock.js";

/** Internal channel of a resource's viewers; never joinable by clients (reserved kind, denying rule). */
export function viewersChannel(resource: string): string {
  return `viewers:${resource}`;
}

export interface ViewerTrackerDeps {
  store: PresenceStore;
  broker: Broker;
  authorizer: ChannelAuthorizer;
  locks: KeyedLock;
  nodeId: string;
  leaseMs: number;
  /** Records one connection may view at once; each is a channel subscription and a stored entry. */
  maxViewedPerConnection?: number;
}

/**
 * Who has a record open (the "someone else has this patient chart open" lock).
 * Viewing is per connection (a tab), listed and announced per user: a user's
 * second tab on the same record is not news, and they leave the list when their
 * last tab stops viewing or disconnects. Only callers who may join the channel
 * of the same name (`patient:42`) may view a resource or list its viewers, so
 * the app's authorization hook decides here too.
 */
export class ViewerTracker {
  constructor(private readonly deps: ViewerTrackerDeps) {}

  /** `presence:setActivity`: starts or stops viewing; answers the viewers after the change. */
  async setActivity(connection: Connection, resource: string, active: boolean): Promise<{ viewers: Viewer[] }> {
    const { caller } = connection;
    if (active) {
      await this.deps.authorizer.authorize(caller, resource);
      return this.deps.locks.run(lockKey(caller.tenantId, resource), () => this.start(connection, resource));
    }
    // A caller whose access was withdrawn (the app's hook now says no) may still take their own
    // entry out, without learning who else views; one with no entry to take out is refused as before.
    const refusal = await this.deps.authorizer.authorize(caller, resource).then(
      () => undefined,
      (err: unknown) => err,
    );
    return this.deps.locks.run(lockKey(caller.tenantId, resource), async () => {
      const { removed, viewers } = await this.stop(connection, resource);
      if (refusal === undefined) return { viewers };
      if (!removed) throw refusal;
      return { viewers: [] };
    });
  }

  /** Stops the connection's viewing of `resource` without asking the authorizer, if it was viewing it. */
  async stopViewing(connection: Connection, resource: string): Promise<void> {
    // A viewing connection is subscribed to the viewers channel (start subscribes, only stop leaves it):
    // the others, most devices of an evicted user, cost no store round trips.
    if (!connection.isSubscribed(viewersChannel(resource))) return;
    await this.deps.locks.run(lockKey(connection.caller.tenantId, resource), () => this.stop(connection, resource));
  }

  /** `presence:viewers`. */
  async list(caller: Caller, resource: string): Promise<{ viewers: Viewer[] }> {
    await this.deps.authorizer.authorize(caller, resource);
    return { viewers: byUser(await this.deps.store.viewers(caller.tenantId, resource)) };
  }

  /** A closed connection stops viewing everything. */
  async disconnect(connection: Connection): Promise<void> {
    const { tenantId } = connection.caller;
    const removed = await this.deps.store.removeViewerEverywhere(tenantId, connection.id);
    for (const { resource, viewer } of removed) await this.departed(tenantId, resource, viewer);
  }

  /** After a viewer entry is gone (stopped, disconnected, expired): announces the user's leaving if it was their last. */
  async departed(tenantId: string, resource: string, viewer: PresenceViewer): Promise<void> {
    await this.deps.locks.run(lockKey(tenantId, resource), async () => {
      const rest = await this.deps.store.viewers(tenantId, resource);
      if (!rest.some((v) => v.userId === viewer.userId)) await this.announce(tenantId, resource, viewer, false);
    });
  }

  private async start(connection: Connection, resource: string): Promise<{ viewers: Viewer[] }> {
    const { caller } = connection;
    const current = await this.deps.store.viewers(caller.tenantId, resource);
    if (!current.some((v) => v.connectionId === connection.id)) {
      const max = this.deps.maxViewedPerConnection;
      if (max !== undefined && viewedBy(connection) >= max) throw new AppError("forbidden", `a connection may view at most ${max} records at once`);
      // A user's later tab carries the time their viewing began: when the first tab stops,
      // they are still listed since then, in their place, as they never stopped viewing.
      const since = current.filter((v) => v.userId === caller.userId).reduce((earliest, v) => (v.since < earliest ? v.since : earliest), new Date().toISOString());
      const viewer: PresenceViewer = { connectionId: connection.id, userId: caller.userId, name: caller.name, nodeId: this.deps.nodeId, since };
      await this.deps.store.addViewer(caller.tenantId, resource, viewer, this.deps.leaseMs);
      connection.subscribe(viewersChannel(resource));
      const firstForUser = !current.some((v) => v.userId === caller.userId);
      if (firstForUser) await this.announce(caller.tenantId, resource, viewer, true, connection.id);
    }
    return { viewers: byUser(await this.deps.store.viewers(caller.tenantId, resource)) };
  }

  /** Takes the connection's entry out (announcing the user's leaving if it was their last); `removed`: there was one. */
  private async stop(connection: Connection, resource: string): Promise<{ removed: boolean; viewers: Viewer[] }> {
    const { caller } = connection;
    const removed = await this.deps.store.removeViewer(caller.tenantId, resource, connection.id);
    connection.unsubscribe(viewersChannel(resource));
    const rest = await this.deps.store.viewers(caller.tenantId, resource);
    if (removed && !rest.some((v) => v.userId === caller.userId)) await this.announce(caller.tenantId, resource, removed, false);
    return { removed: removed !== undefined, viewers: byUser(rest) };
  }

  private announce(tenantId: string, resource: string, viewer: PresenceViewer, active: boolean, exceptConnectionId?: string): Promise<void> {
    const data: PresenceActivityEvent = { resource, userId: viewer.userId, name: viewer.name, active };
    return this.deps.broker.publish({ tenantId, channels: [viewersChannel(resource)], event: "presence:activity", data, exceptConnectionId });
  }
}

/** One entry per user, in the order they started viewing (by their earliest `since`). */
function byUser(entries: readonly PresenceViewer[]): Viewer[] {
  const users = new Map<string, Viewer>();
  for (const entry of entries) {
    const seen = users.get(entry.userId);
    if (!seen) users.set(entry.userId, { userId: entry.userId, name: entry.name, since: entry.since });
    else if (entry.since < seen.since) seen.since = entry.since;
  }
  // Stable: users who started in the same millisecond keep the store's order.
  return [...users.values()].sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
}

/** Records the connection views now: its `viewers:` subscriptions. */
function viewedBy(connection: Connection): number {
  let count = 0;
  for (const channel of connection.channels()) if (channel.startsWith("viewers:")) count++;
  return count;
}

function lockKey(tenantId: string, resource: string): string {
  return `viewers/${tenantId}/${resource}`;
}

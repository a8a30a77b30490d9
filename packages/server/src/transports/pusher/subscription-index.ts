import type { PusherConnection, PusherSubscription } from "./pusher-connection.js";

export interface IndexEntry {
  connection: PusherConnection;
  subscription: PusherSubscription;
}

/**
 * This node's Pusher subscriptions by tenant-scoped Switchboard channel, so a
 * broker message finds its local recipients without scanning every connection
 * (the Pusher counterpart of Socket.IO's rooms).
 */
export class SubscriptionIndex {
  private readonly byChannel = new Map<string, Map<string, IndexEntry>>();

  add(connection: PusherConnection, subscription: PusherSubscription): void {
    const key = channelKey(connection.app.tenantId, subscription.channel);
    let entries = this.byChannel.get(key);
    if (!entries) this.byChannel.set(key, (entries = new Map()));
    entries.set(entryKey(connection, subscription), { connection, subscription });
  }

  remove(connection: PusherConnection, subscription: PusherSubscription): void {
    const key = channelKey(connection.app.tenantId, subscription.channel);
    const entries = this.byChannel.get(key);
    if (!entries) return;
    entries.delete(entryKey(connection, subscription));
    if (entries.size === 0) this.byChannel.delete(key);
  }

  /** Whether this node has no Pusher subscription at all (most broker messages then need no lookup). */
  get isEmpty(): boolean {
    return this.byChannel.size === 0;
  }

  entries(tenantId: string, channel: string): Iterable<IndexEntry> {
    return this.byChannel.get(channelKey(tenantId, channel))?.values() ?? [];
  }
}

function channelKey(tenantId: string, channel: string): string {
  return `${tenantId}/${channel}`;
}

function entryKey(connection: PusherConnection, subscription: PusherSubscription): string {
  return `${connection.id}/${subscription.name}`;
}

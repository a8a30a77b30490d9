/** Result of counting a subscription in: `occupied` when it is the first under that name. */
export interface OccupancyAdded {
  occupied: boolean;
}

/** Result of counting a subscription out: `vacated` when it was the last under that name. */
export interface OccupancyRemoved {
  vacated: boolean;
}

/**
 * How many connections are subscribed under each channel name of one protocol
 * namespace (the Pusher transport counts Pusher channel names, which are
 * aliases of Switchboard channels), per tenant and, with a shared driver,
 * across nodes. It answers the Pusher channel queries and decides the
 * `channel_occupied` / `channel_vacated` webhooks, so a transition is reported
 * once by the node that caused it.
 *
 * Contract: add/remove are idempotent per (name, connection); `removeConnection`
 * drops a connection under every name and reports the names it vacated.
 * Who the subscribers are (presence members) is not kept here: that is
 * {@link ChannelMembers}.
 *
 * Leases work as for {@link ChannelMembers}: a shared driver's subscriptions of
 * a stopped node are removed by `takeExpired`, once across nodes, which
 * reports the names they vacated.
 */
export interface ChannelOccupancy {
  add(tenantId: string, name: string, connectionId: string): Promise<OccupancyAdded>;
  remove(tenantId: string, name: string, connectionId: string): Promise<OccupancyRemoved>;
  removeConnection(tenantId: string, connectionId: string): Promise<string[]>;
  /** Subscriptions under one name (0 when none). */
  count(tenantId: string, name: string): Promise<number>;
  /** Occupied names of a tenant starting with `prefix`, with their subscription counts. */
  list(tenantId: string, prefix?: string): Promise<Map<string, number>>;
  /** Extends the lease of every subscription this node added. */
  renew(): Promise<void>;
  /** Removes the subscriptions of nodes whose lease ended before `now` (ms); resolves with the names they vacated. */
  takeExpired(now: number): Promise<{ tenantId: string; name: string }[]>;
}

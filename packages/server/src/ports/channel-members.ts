/** A user subscribed to a channel, with one entry however many devices it uses. */
export interface ChannelMember {
  userId: string;
  name: string;
  /** Pusher presence `user_info` of a member who joined through the Pusher protocol. */
  info?: unknown;
}

/** Result of adding a connection: `firstJoin` when the user had no other connection in the channel. */
export interface MemberAdded {
  firstJoin: boolean;
}

/** Result of removing a connection: `lastLeave` when it was the user's last one in the channel. */
export interface MemberRemoved {
  lastLeave: boolean;
  /** The member as it was added, when `lastLeave`. */
  member?: ChannelMember;
}

/** A user gone from a channel because the connection that held them belonged to a stopped node. */
export interface ExpiredMember {
  tenantId: string;
  channel: string;
  member: ChannelMember;
}

/**
 * Who is in which channel, counted per user across all their connections and
 * (with a shared driver) all nodes. Join and leave announcements, participant
 * lists and presence-channel member lists are all read from here.
 *
 * Contract: add/remove are idempotent per (channel, connection); a user is listed
 * while at least one of their connections is in the channel; `removeConnection`
 * drops a connection from every channel it was in and reports the channels where
 * its user is now gone.
 *
 * With a driver shared between nodes, entries are leased to the node that added
 * them: the node calls `renew` well within the lease (`NODE_LEASE_MS`), and the
 * connections of a node that stopped renewing (crashed) are removed by
 * `takeExpired`, which hands each to exactly one caller, so that caller
 * announces the departures once. A single-node driver's entries die with the
 * process: `renew` and `takeExpired` have nothing to do.
 */
export interface ChannelMembers {
  add(tenantId: string, channel: string, connectionId: string, member: ChannelMember): Promise<MemberAdded>;
  remove(tenantId: string, channel: string, connectionId: string): Promise<MemberRemoved>;
  list(tenantId: string, channel: string): Promise<ChannelMember[]>;
  /** How many users (not connections) are in the channel. */
  count(tenantId: string, channel: string): Promise<number>;
  removeConnection(tenantId: string, connectionId: string): Promise<{ channel: string; member: ChannelMember }[]>;
  /** Extends the lease of every entry this node added. */
  renew(): Promise<void>;
  /** Removes the connections of nodes whose lease ended before `now` (ms); resolves with the users now gone from a channel. */
  takeExpired(now: number): Promise<ExpiredMember[]>;
}

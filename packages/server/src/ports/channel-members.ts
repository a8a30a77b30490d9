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

/**
 * Who is in which channel, counted per user across all their connections and
 * (with a shared driver) all nodes. Join and leave announcements, participant
 * lists and presence-channel member lists are all read from here.
 *
 * Contract: add/remove are idempotent per (channel, connection); a user is listed
 * while at least one of their connections is in the channel; `removeConnection`
 * drops a connection from every channel it was in and reports the channels where
 * its user is now gone.
 */
export interface ChannelMembers {
  add(tenantId: string, channel: string, connectionId: string, member: ChannelMember): Promise<MemberAdded>;
  remove(tenantId: string, channel: string, connectionId: string): Promise<MemberRemoved>;
  list(tenantId: string, channel: string): Promise<ChannelMember[]>;
  removeConnection(tenantId: string, connectionId: string): Promise<{ channel: string; member: ChannelMember }[]>;
}

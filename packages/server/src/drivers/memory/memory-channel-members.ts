import type { ChannelMember, ChannelMembers, ExpiredMember, MemberAdded, MemberRemoved } from "../../ports/channel-members.js";

interface Entry {
  member: ChannelMember;
  connections: Set<string>;
}

/** Channel membership for a single node. */
export class MemoryChannelMembers implements ChannelMembers {
  /** scoped channel -> userId -> entry */
  private readonly channels = new Map<string, Map<string, Entry>>();
  /** tenant/connection -> scoped channels and the user it belongs to */
  private readonly byConnection = new Map<string, { userId: string; channels: Set<string> }>();

  async add(tenantId: string, channel: string, connectionId: string, member: ChannelMember): Promise<MemberAdded> {
    const key = scope(tenantId, channel);
    let users = this.channels.get(key);
    if (!users) this.channels.set(key, (users = new Map()));
    let entry = users.get(member.userId);
    const firstJoin = !entry;
    if (!entry) users.set(member.userId, (entry = { member, connections: new Set() }));
    entry.connections.add(connectionId);
    const connKey = scope(tenantId, connectionId);
    let conn = this.byConnection.get(connKey);
    if (!conn) this.byConnection.set(connKey, (conn = { userId: member.userId, channels: new Set() }));
    conn.channels.add(channel);
    return { firstJoin };
  }

  async remove(tenantId: string, channel: string, connectionId: string): Promise<MemberRemoved> {
    const connKey = scope(tenantId, connectionId);
    const conn = this.byConnection.get(connKey);
    if (!conn || !conn.channels.delete(channel)) return { lastLeave: false };
    if (conn.channels.size === 0) this.byConnection.delete(connKey);
    const key = scope(tenantId, channel);
    const member = this.channels.get(key)?.get(conn.userId)?.member;
    const lastLeave = this.drop(key, conn.userId, connectionId);
    return lastLeave ? { lastLeave, member } : { lastLeave };
  }

  async list(tenantId: string, channel: string): Promise<ChannelMember[]> {
    const users = this.channels.get(scope(tenantId, channel));
    return users ? [...users.values()].map((e) => e.member) : [];
  }

  async count(tenantId: string, channel: string): Promise<number> {
    return this.channels.get(scope(tenantId, channel))?.size ?? 0;
  }

  async removeConnection(tenantId: string, connectionId: string): Promise<{ channel: string; member: ChannelMember }[]> {
    const connKey = scope(tenantId, connectionId);
    const conn = this.byConnection.get(connKey);
    if (!conn) return [];
    this.byConnection.delete(connKey);
    const gone: { channel: string; member: ChannelMember }[] = [];
    for (const channel of conn.channels) {
      const member = this.channels.get(scope(tenantId, channel))?.get(conn.userId)?.member;
      if (this.drop(scope(tenantId, channel), conn.userId, connectionId) && member) gone.push({ channel, member });
    }
    return gone;
  }

  /** Removes one connection of a user; true when the user has none left in the channel. */
  private drop(key: string, userId: string, connectionId: string): boolean {
    const users = this.channels.get(key);
    const entry = users?.get(userId);
    if (!users || !entry) return false;
    entry.connections.delete(connectionId);
    if (entry.connections.size > 0) return false;
    users.delete(userId);
    if (users.size === 0) this.channels.delete(key);
    return true;
  }

  /** Entries of one process die with it: nothing to renew. */
  async renew(): Promise<void> {}

  /** Nothing outlives its node here. */
  async takeExpired(): Promise<ExpiredMember[]> {
    return [];
  }
}

function scope(tenantId: string, name: string): string {
  return `${tenantId}/${name}`;
}

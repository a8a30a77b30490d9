import type { Participant } from "@switchboard/protocol";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { ChannelMembers } from "../../ports/channel-members.js";
import type { Connection } from "../connection.js";
import { AppError } from "../errors.js";
import { ChannelAuthorizer } from "./channel-authorizer.js";

export interface ChannelServiceDeps {
  authorizer: ChannelAuthorizer;
  members: ChannelMembers;
  broker: Broker;
}

/**
 * Joining, leaving and listing channels for any transport. Announces
 * `room:userJoined` on a user's first connection in a channel and
 * `room:userLeft` when their last one leaves, so a second device is not news.
 */
export class ChannelService {
  constructor(private readonly deps: ChannelServiceDeps) {}

  /**
   * Registers a new connection in its automatic channels (no announcements:
   * presence covers arrivals). `restored` are channels a transport kept across a
   * reconnect (Socket.IO connection state recovery): each is authorized again
   * for the fresh token (roles may have changed) and dropped when no longer
   * allowed; the leave announced at disconnect is answered by a join announcement.
   */
  async connect(connection: Connection, restored: readonly string[] = []): Promise<void> {
    const { caller } = connection;
    const automatic = new Set(ChannelAuthorizer.automaticChannels(caller));
    for (const channel of new Set([...automatic, ...restored])) {
      if (!automatic.has(channel) && !(await this.deps.authorizer.isAllowed(caller, channel).catch(() => false))) {
        connection.unsubscribe(channel);
        continue;
      }
      connection.subscribe(channel);
      if (this.deps.authorizer.hasPrivateMembership(channel)) continue;
      const { firstJoin } = await this.deps.members.add(caller.tenantId, channel, connection.id, member(caller));
      if (firstJoin && !automatic.has(channel)) await this.announceJoined(connection, channel);
    }
  }

  async join(connection: Connection, channel: string): Promise<{ room: string }> {
    const { caller } = connection;
    await this.deps.authorizer.authorize(caller, channel);
    connection.subscribe(channel);
    if (this.deps.authorizer.hasPrivateMembership(channel)) return { room: channel };
    const { firstJoin } = await this.deps.members.add(caller.tenantId, channel, connection.id, member(caller));
    if (firstJoin) await this.announceJoined(connection, channel);
    return { room: channel };
  }

  async leave(connection: Connection, channel: string): Promise<{ room: string }> {
    const { caller } = connection;
    if (ChannelAuthorizer.automaticChannels(caller).includes(channel)) {
      throw new AppError("forbidden", `${channel} is joined automatically and cannot be left`);
    }
    connection.unsubscribe(channel);
    if (this.deps.authorizer.hasPrivateMembership(channel)) return { room: channel };
    const { lastLeave } = await this.deps.members.remove(caller.tenantId, channel, connection.id);
    if (lastLeave) await this.announceLeft(caller.tenantId, channel, member(caller));
    return { room: channel };
  }

  /** Lists a channel's users; only for callers who may join it, and never for private-membership kinds. */
  async participants(caller: Caller, channel: string): Promise<{ participants: Participant[] }> {
    await this.deps.authorizer.authorize(caller, channel);
    if (this.deps.authorizer.hasPrivateMembership(channel)) throw new AppError("forbidden", `members of ${channel} are not listed`);
    const members = await this.deps.members.list(caller.tenantId, channel);
    return { participants: members.map(({ userId, name }) => ({ userId, name })) };
  }

  /** Drops a closed connection everywhere and announces the users who are now gone. */
  async disconnect(connection: Connection): Promise<void> {
    const gone = await this.deps.members.removeConnection(connection.caller.tenantId, connection.id);
    const automatic = new Set(ChannelAuthorizer.automaticChannels(connection.caller));
    for (const { channel, member: who } of gone) {
      if (!automatic.has(channel)) await this.announceLeft(connection.caller.tenantId, channel, who);
    }
  }

  private announceJoined(connection: Connection, channel: string): Promise<void> {
    return this.deps.broker.publish({
      tenantId: connection.caller.tenantId,
      channels: [channel],
      event: "room:userJoined",
      data: { room: channel, ...member(connection.caller) },
      exceptConnectionId: connection.id,
    });
  }

  private announceLeft(tenantId: string, channel: string, who: Participant): Promise<void> {
    return this.deps.broker.publish({ tenantId, channels: [channel], event: "room:userLeft", data: { room: channel, ...who } });
  }
}

function member(caller: Caller): Participant {
  return { userId: caller.userId, name: caller.name };
}

import type { Participant } from "@switchboard/protocol";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { ChannelMember, ChannelMembers } from "../../ports/channel-members.js";
import { DependencyUnavailableError } from "../../ports/errors.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import { AppError } from "../errors.js";
import { LeaseKeeper } from "../lease-keeper.js";
import { ChannelAuthorizer } from "./channel-authorizer.js";

export interface ChannelServiceDeps {
  authorizer: ChannelAuthorizer;
  members: ChannelMembers;
  broker: Broker;
  /** Channels one connection may join besides its automatic ones. */
  maxRoomsPerConnection: number;
  /**
   * Join and leave announcements stop in rooms of more users than this (0 = no
   * limit): each one goes to every member, so a room filled one by one would
   * cost a number of frames growing with the square of its size.
   */
  announceMaxMembers: number;
  /** Lease of this node's member entries in a shared store (`NODE_LEASE_MS`). */
  leaseMs: number;
  logger: Logger;
}

/**
 * Told of a user's first join and last leave of a non-automatic channel, on the
 * node where it happened (with a shared ChannelMembers driver: exactly once
 * across nodes). Pusher webhooks hang off this.
 */
export interface MembershipObserver {
  memberAdded(tenantId: string, channel: string, member: ChannelMember): void;
  memberRemoved(tenantId: string, channel: string, member: ChannelMember): void;
}

/**
 * Joining, leaving and listing channels for any transport. Announces
 * `room:userJoined` on a user's first connection in a channel and
 * `room:userLeft` when their last one leaves, so a second device is not news;
 * in rooms of up to `announceMaxMembers` users (membership observers hear of
 * every change whatever the size).
 */
export class ChannelService implements ConnectionListener {
  private readonly observers = new Set<MembershipObserver>();
  private readonly leases: LeaseKeeper;

  constructor(private readonly deps: ChannelServiceDeps) {
    this.leases = new LeaseKeeper({
      leaseMs: deps.leaseMs,
      renew: () => deps.members.renew(),
      sweep: () => this.sweepExpired(),
      what: "channel members",
      logger: deps.logger,
    });
  }

  /** Keeps this node's member entries alive and removes those of crashed nodes (with a shared store). */
  start(): void {
    this.leases.start();
  }

  async close(): Promise<void> {
    await this.leases.stop();
  }

  /** Registers an observer of first joins and last leaves; returns the function that removes it. */
  observe(observer: MembershipObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  connected(connection: Connection, restored: readonly string[]): Promise<void> {
    return this.connect(connection, restored);
  }

  disconnected(connection: Connection): Promise<void> {
    return this.disconnect(connection);
  }

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
      const who = member(caller);
      let added;
      try {
        added = await this.deps.members.add(caller.tenantId, channel, connection.id, who);
      } catch (err) {
        // A shared member list that cannot be reached (Redis away) must not refuse the connection: it gets its events, unlisted.
        if (!(err instanceof DependencyUnavailableError)) throw err;
        this.deps.logger.warn({ channel }, "member list unavailable; connection not listed in the channel");
        continue;
      }
      if (added.firstJoin && !automatic.has(channel)) await this.announceJoined(connection, channel, who);
    }
  }

  async join(connection: Connection, channel: string): Promise<{ room: string }> {
    const { caller } = connection;
    const automatic = ChannelAuthorizer.automaticChannels(caller);
    const joined = [...connection.channels()].filter((c) => !automatic.includes(c) && !isParticipation(c));
    if (!isParticipation(channel) && !joined.includes(channel) && joined.length >= this.deps.maxRoomsPerConnection) {
      throw new AppError("forbidden", `a connection may join at most ${this.deps.maxRoomsPerConnection} rooms`);
    }
    await this.deps.authorizer.authorize(caller, channel);
    connection.subscribe(channel);
    await this.addMember(connection, channel, member(caller));
    return { room: channel };
  }

  /**
   * Joins a connection to the channel a request that succeeded has just used
   * (PROTOCOL.md section 3: joined on use): a conversation or call channel whose
   * participant the caller was shown to be, or the `topic:` channel of a topic
   * it subscribed to (open to any user of the tenant). Not asked again of the
   * authorizer, which would repeat that request's participant check as one
   * more query.
   */
  async joinByUse(connection: Connection, channel: string): Promise<void> {
    if (!isJoinedByUse(channel)) throw new Error(`${channel} is not a conversation, call or topic channel`);
    connection.subscribe(channel);
    await this.addMember(connection, channel, member(connection.caller));
  }

  async leave(connection: Connection, channel: string): Promise<{ room: string }> {
    const { caller } = connection;
    if (ChannelAuthorizer.automaticChannels(caller).includes(channel)) {
      throw new AppError("forbidden", `${channel} is joined automatically and cannot be left`);
    }
    if (this.deps.authorizer.isManaged(channel)) throw new AppError("forbidden", `${channel} follows presence:setActivity and cannot be left`);
    connection.unsubscribe(channel);
    await this.removeMember(connection, channel);
    return { room: channel };
  }

  /**
   * Lists a connection as `who` among a channel's members and announces a first
   * join, without asking the authorizer and without subscribing the connection:
   * for transports whose access decision was made elsewhere (a Pusher presence
   * subscription carries the app backend's signature and its own user).
   */
  async addMember(connection: Connection, channel: string, who: ChannelMember): Promise<void> {
    if (this.deps.authorizer.hasPrivateMembership(channel)) return;
    const { tenantId } = connection.caller;
    const { firstJoin } = await this.deps.members.add(tenantId, channel, connection.id, who);
    if (firstJoin) await this.announceJoined(connection, channel, who);
  }

  /** Drops a connection from a channel's members; announces the user's last leave. */
  async removeMember(connection: Connection, channel: string): Promise<void> {
    if (this.deps.authorizer.hasPrivateMembership(channel)) return;
    const { tenantId } = connection.caller;
    const { lastLeave, member: who } = await this.deps.members.remove(tenantId, channel, connection.id);
    if (lastLeave) await this.announceLeft(tenantId, channel, who ?? member(connection.caller));
  }

  /** A channel's members as stored, with Pusher `info` (for presence member lists). */
  members(tenantId: string, channel: string): Promise<ChannelMember[]> {
    return this.deps.members.list(tenantId, channel);
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

  /**
   * Users whose connections were on a node that stopped renewing: announced as
   * leaving once, by the node whose sweep took them (automatic channels never
   * are, as on a normal disconnect).
   */
  private async sweepExpired(): Promise<void> {
    for (const { tenantId, channel, member: who } of await this.deps.members.takeExpired(Date.now())) {
      if (!ChannelAuthorizer.isAutomaticChannel(channel)) await this.announceLeft(tenantId, channel, who);
    }
  }

  /**
   * Whether a join or leave is announced: a join counts the joiner, a leave
   * the room as it was before, so a room at the limit announces both.
   */
  private async announces(tenantId: string, channel: string, leaving: boolean): Promise<boolean> {
    const max = this.deps.announceMaxMembers;
    if (max === 0) return true;
    try {
      const users = await this.deps.members.count(tenantId, channel);
      return users + (leaving ? 1 : 0) <= max;
    } catch (err) {
      // The membership change itself is done; a count that cannot be read (Redis away)
      // costs this one announcement, not the connect or the rest of a disconnect's cleanup.
      this.deps.logger.warn({ err, channel }, "member count unavailable; join/leave not announced");
      return false;
    }
  }

  private async announceJoined(connection: Connection, channel: string, who: ChannelMember): Promise<void> {
    const { tenantId } = connection.caller;
    for (const observer of this.observers) observer.memberAdded(tenantId, channel, who);
    if (!(await this.announces(tenantId, channel, false))) return;
    await this.deps.broker.publish({
      tenantId,
      channels: [channel],
      event: "room:userJoined",
      data: { room: channel, ...announced(who) },
      exceptConnectionId: connection.id,
    });
  }

  private async announceLeft(tenantId: string, channel: string, who: ChannelMember): Promise<void> {
    for (const observer of this.observers) observer.memberRemoved(tenantId, channel, who);
    if (!(await this.announces(tenantId, channel, true))) return;
    await this.deps.broker.publish({ tenantId, channels: [channel], event: "room:userLeft", data: { room: channel, ...announced(who) } });
  }
}

/** `{ userId, name }`, plus `info` for members that joined through Pusher presence. */
function announced({ userId, name, info }: ChannelMember): Participant & { info?: unknown } {
  return info === undefined ? { userId, name } : { userId, name, info };
}

function member(caller: Caller): Participant {
  return { userId: caller.userId, name: caller.name };
}

/**
 * Conversation and call channels: open only to their participants, and joined
 * automatically by the requests that use them (PROTOCOL.md section 3). They do
 * not count against `maxRoomsPerConnection`: their number is bounded by what
 * the user takes part in, and counting them would shut out of every other room a
 * connection that has read a hundred conversations.
 */
export function isParticipation(channel: string): boolean {
  return channel.startsWith("conversation:") || channel.startsWith("call:");
}

/**
 * Channels requests join by use: conversations and calls, and `topic:` channels
 * (`notification:subscribe`). Topic channels joined so are not checked against
 * `maxRoomsPerConnection` (the subscription is already made), but count
 * towards it for later `room:join`s, as any topic joined by hand does.
 */
function isJoinedByUse(channel: string): boolean {
  return isParticipation(channel) || channel.startsWith("topic:");
}

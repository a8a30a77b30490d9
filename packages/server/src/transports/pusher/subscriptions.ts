import type { Logger } from "pino";
import type { ChannelService } from "../../core/channels/channel-service.js";
import type { ChannelMember } from "../../ports/channel-members.js";
import type { ChannelOccupancy } from "../../ports/channel-occupancy.js";
import { mapPusherChannel, type PusherChannel } from "./channel-names.js";
import { channelDataSchema, parseData, type subscribeSchema } from "./frames.js";
import type { PusherConnection, PusherSubscription } from "./pusher-connection.js";
import { verifyChannelAuth } from "./signatures.js";
import type { SubscriptionIndex } from "./subscription-index.js";
import type { PusherWebhooks } from "./webhooks.js";
import type { z } from "zod";

/** Pusher's presence limits: members per channel and bytes of one member's `user_info`. */
export const PRESENCE_MAX_MEMBERS = 100;
export const MEMBER_INFO_MAX_BYTES = 1024;

export interface PusherSubscriptionsDeps {
  channels: ChannelService;
  occupancy: ChannelOccupancy;
  index: SubscriptionIndex;
  webhooks: PusherWebhooks;
  logger: Logger;
}

type SubscribePayload = z.infer<typeof subscribeSchema>;

/** Why a subscription is refused, sent as `pusher:subscription_error`. */
class SubscriptionRefused extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * `pusher:subscribe` / `pusher:unsubscribe`. Access to private and presence
 * channels is the app backend's signature (standard Pusher semantics);
 * presence members live in the shared ChannelMembers list through
 * ChannelService, so Socket.IO members of the same channel are in it too.
 */
export class PusherSubscriptions {
  constructor(private readonly deps: PusherSubscriptionsDeps) {}

  async subscribe(connection: PusherConnection, payload: SubscribePayload): Promise<void> {
    let subscription: PusherSubscription;
    try {
      subscription = connection.subscriptions.get(payload.channel) ?? (await this.admit(connection, payload));
    } catch (err) {
      if (!(err instanceof SubscriptionRefused)) throw err;
      connection.send("pusher:subscription_error", { type: err.type, error: err.message, status: err.status }, payload.channel);
      return;
    }
    if (!connection.subscriptions.has(subscription.name)) await this.add(connection, subscription);
    if (subscription.type !== "presence") {
      connection.send("pusher_internal:subscription_succeeded", {}, subscription.name);
      return;
    }
    const members = await this.deps.channels.members(connection.app.tenantId, subscription.channel);
    connection.send("pusher_internal:subscription_succeeded", { presence: presenceList(members) }, subscription.name);
  }

  async unsubscribe(connection: PusherConnection, name: string): Promise<void> {
    const subscription = connection.subscriptions.get(name);
    if (!subscription) return;
    const vacated = await this.drop(connection, subscription);
    if (subscription.member) await this.deps.channels.removeMember(connection, subscription.channel);
    // After member_removed, as Pusher orders them: the last member leaves, then the channel is empty.
    if (vacated) this.vacated(connection, subscription);
  }

  /** Ends every subscription of a closing connection and drops it from every member list. */
  async unsubscribeAll(connection: PusherConnection): Promise<void> {
    const vacated: PusherSubscription[] = [];
    for (const subscription of [...connection.subscriptions.values()]) if (await this.drop(connection, subscription)) vacated.push(subscription);
    await this.deps.channels.disconnect(connection);
    for (const subscription of vacated) this.vacated(connection, subscription);
  }

  /** Checks a subscription request; throws SubscriptionRefused. */
  private async admit(connection: PusherConnection, payload: SubscribePayload): Promise<PusherSubscription> {
    const mapped = mapPusherChannel(payload.channel);
    if (!mapped.ok) throw new SubscriptionRefused("InvalidChannel", mapped.reason, 400);
    const channel = mapped.channel;
    if (channel.type === "public") return channel;
    if (channel.type === "user") {
      if (connection.user?.id !== channel.userId) throw new SubscriptionRefused("AuthError", "sign in as this user first", 403);
      return channel;
    }
    if (channel.type === "presence") {
      const signed = payload.auth !== undefined && verifyChannelAuth(connection.app, connection.id, channel.name, payload.auth, payload.channel_data ?? "");
      if (!signed) throw new SubscriptionRefused("AuthError", `invalid signature for ${channel.name}`, 401);
      return this.admitMember(connection, channel, payload.channel_data ?? "");
    }
    // A private signature covers `channel_data` when it names the user (Switchboard's /pusher/auth); the
    // `pusher` library's signs the socket and channel only, and pusher-js then sends no channel_data.
    // A backend that sends channel_data but signs without it is still accepted, as before, with no user bound.
    const boundTo = payload.channel_data !== undefined ? parseData(channelDataSchema, payload.channel_data)?.user_id : undefined;
    const bound = boundTo !== undefined && payload.auth !== undefined && verifyChannelAuth(connection.app, connection.id, channel.name, payload.auth, payload.channel_data);
    const signed = bound || (payload.auth !== undefined && verifyChannelAuth(connection.app, connection.id, channel.name, payload.auth));
    if (!signed) throw new SubscriptionRefused("AuthError", `invalid signature for ${channel.name}`, 401);
    return bound ? { ...channel, signedFor: boundTo } : channel;
  }

  private async admitMember(connection: PusherConnection, channel: PusherChannel, channelData: string): Promise<PusherSubscription> {
    const data = parseData(channelDataSchema, channelData);
    if (!data) throw new SubscriptionRefused("InvalidChannelData", "channel_data must be JSON with a user_id", 400);
    const info = data.user_info ?? {};
    if (Buffer.byteLength(JSON.stringify(info), "utf8") > MEMBER_INFO_MAX_BYTES) {
      throw new SubscriptionRefused("LimitReached", `user_info is limited to ${MEMBER_INFO_MAX_BYTES} bytes`, 413);
    }
    const members = await this.deps.channels.members(connection.app.tenantId, channel.channel);
    if (members.length >= PRESENCE_MAX_MEMBERS && !members.some((m) => m.userId === data.user_id)) {
      throw new SubscriptionRefused("LimitReached", `presence channels are limited to ${PRESENCE_MAX_MEMBERS} members`, 403);
    }
    return { ...channel, member: { userId: data.user_id, info } };
  }

  private async add(connection: PusherConnection, subscription: PusherSubscription): Promise<void> {
    const { tenantId } = connection.app;
    connection.subscriptions.set(subscription.name, subscription);
    this.deps.index.add(connection, subscription);
    const { occupied } = await this.deps.occupancy.add(tenantId, subscription.name, connection.id);
    if (occupied) this.deps.webhooks.send(tenantId, { name: "channel_occupied", channel: subscription.name });
    if (subscription.member) {
      const { userId, info } = subscription.member;
      await this.deps.channels.addMember(connection, subscription.channel, { userId, name: displayName(info) ?? userId, info });
    }
  }

  /** Ends one subscription; true when it was the channel's last (the caller sends `channel_vacated`). */
  private async drop(connection: PusherConnection, subscription: PusherSubscription): Promise<boolean> {
    connection.subscriptions.delete(subscription.name);
    this.deps.index.remove(connection, subscription);
    const { vacated } = await this.deps.occupancy.remove(connection.app.tenantId, subscription.name, connection.id);
    return vacated;
  }

  private vacated(connection: PusherConnection, subscription: PusherSubscription): void {
    this.deps.webhooks.send(connection.app.tenantId, { name: "channel_vacated", channel: subscription.name });
  }
}

/** A presence member's `user_info` as Pusher shows it; Socket.IO members show `{ name }`. */
export function memberInfo(member: Pick<ChannelMember, "name" | "info">): unknown {
  return member.info !== undefined ? member.info : { name: member.name };
}

/**
 * The `presence` object of `subscription_succeeded`. The hash has no prototype: a user id is any
 * id of section 3, `__proto__` included, and on a plain object that key would set the prototype
 * instead of adding a member (the member vanished from `ids` and `hash` while `count` kept it).
 */
function presenceList(members: ChannelMember[]): { ids: string[]; hash: Record<string, unknown>; count: number } {
  const hash: Record<string, unknown> = Object.create(null);
  for (const member of members) hash[member.userId] = memberInfo(member);
  const ids = Object.keys(hash);
  return { ids, hash, count: ids.length };
}

function displayName(info: unknown): string | undefined {
  const name = (info as { name?: unknown } | null)?.name;
  return typeof name === "string" && name.trim() ? name.trim().slice(0, 200) : undefined;
}

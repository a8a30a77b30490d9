import {
  notificationCreateSchema,
  type Notification,
  type NotificationCreatePayload,
  type NotificationListPayload,
} from "@switchboard/protocol";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { NotificationStore, PushSubscription } from "../../ports/notification-store.js";
import type { PushSender } from "../../ports/push-sender.js";
import type { ConnectionRegistry } from "../connection-registry.js";
import { refuseUnfitData } from "../events/events-service.js";
import type { DomainEvent } from "../domain-events.js";
import { AppError, issueDetails } from "../errors.js";

/**
 * Topics one user may subscribe to. Each is a stored row that every topic
 * notification is copied to, and a channel on the subscribing connection: a
 * bound keeps one user from growing either without end.
 */
export const MAX_TOPICS_PER_USER = 1000;

export interface NotificationServiceDeps {
  store: NotificationStore;
  broker: Broker;
  /** Who is connected (a user with no connection gets Web Push for high/critical). */
  registry: ConnectionRegistry;
  /** With several nodes: whether the user has a connection on any node (shared presence). */
  isConnectedAnywhere?: (tenantId: string, userId: string) => Promise<boolean>;
  push?: PushSender;
  logger: Logger;
}

/**
 * Notifications (PROTOCOL.md section 6): stored first (one row per recipient),
 * then delivered live as `notification:new` and `notification:unreadCount` to
 * every device of each recipient; users who are offline find them in the list
 * and the count on return, and get a Web Push for `high`/`critical` ones.
 */
export class NotificationService {
  constructor(private readonly deps: NotificationServiceDeps) {}

  /** From the app's backend (HTTP API, server SDK). @throws AppError `bad_request`, `payload_too_large` (data over 64 KiB) */
  async create(tenantId: string, input: NotificationCreatePayload | unknown): Promise<{ created: number; notificationIds: string[] }> {
    const parsed = notificationCreateSchema.safeParse(input);
    if (!parsed.success) {
      throw new AppError("bad_request", "invalid notification", issueDetails(parsed.error));
    }
    const n = parsed.data;
    const now = new Date();
    // Stored once per recipient (up to 1,000) and sent in every notification:new: event data's bounds.
    refuseUnfitData(n.data, "notification data");
    if (n.expiresAt && Date.parse(n.expiresAt) <= now.getTime()) throw new AppError("bad_request", "expiresAt is in the past", [{ path: "expiresAt", message: "in the past" }]);
    const userIds = n.userIds ? [...new Set(n.userIds)] : await this.deps.store.subscribers(tenantId, n.topic!);
    const created = await this.deps.store.create({
      tenantId,
      userIds,
      type: n.type,
      title: n.title,
      body: n.body,
      priority: n.priority,
      data: n.data,
      topic: n.topic,
      expiresAt: n.expiresAt ? new Date(n.expiresAt) : undefined,
      now,
    });
    await this.deliver(tenantId, created);
    return { created: created.length, notificationIds: created.map((c) => c.id) };
  }

  list(caller: Caller, payload: NotificationListPayload): Promise<{ notifications: Notification[]; hasMore: boolean }> {
    return this.deps.store.list(caller.tenantId, caller.userId, { unreadOnly: payload.unreadOnly ?? false, before: payload.before, beforeId: payload.beforeId, limit: payload.limit ?? 30 }, new Date());
  }

  async read(caller: Caller, id: string): Promise<{ unreadCount: number }> {
    if (!(await this.deps.store.markRead(caller.tenantId, caller.userId, id, new Date()))) throw new AppError("not_found", "no such notification");
    return { unreadCount: await this.announceCount(caller.tenantId, caller.userId) };
  }

  async readAll(caller: Caller): Promise<{ unreadCount: 0 }> {
    await this.deps.store.markAllRead(caller.tenantId, caller.userId, new Date());
    await this.announceCount(caller.tenantId, caller.userId);
    return { unreadCount: 0 };
  }

  async unreadCount(caller: Caller): Promise<{ count: number }> {
    const counts = await this.deps.store.unreadCounts(caller.tenantId, [caller.userId], new Date());
    return { count: counts.get(caller.userId) ?? 0 };
  }

  /** @throws AppError `forbidden` when the user would pass {@link MAX_TOPICS_PER_USER} (nothing is subscribed then). */
  async subscribe(caller: Caller, topics: string[]): Promise<{ topics: string[] }> {
    const wanted = new Set(topics);
    const current = await this.deps.store.topics(caller.tenantId, caller.userId);
    const added = [...wanted].filter((topic) => !current.includes(topic));
    if (current.length + added.length > MAX_TOPICS_PER_USER) {
      throw new AppError("forbidden", `topic limit reached: a user subscribes to at most ${MAX_TOPICS_PER_USER} topics (${current.length} now)`);
    }
    return { topics: await this.deps.store.subscribe(caller.tenantId, caller.userId, [...wanted], new Date()) };
  }

  async unsubscribe(caller: Caller, topics: string[]): Promise<{ topics: string[] }> {
    return { topics: await this.deps.store.unsubscribe(caller.tenantId, caller.userId, topics) };
  }

  async addPushSubscription(caller: Caller, subscription: PushSubscription): Promise<void> {
    if (!this.deps.push) throw new AppError("unavailable", "Web Push is not configured on this server (VAPID keys)");
    await this.deps.store.addPushSubscription(caller.tenantId, caller.userId, subscription, new Date());
  }

  /** Forgets the caller's subscription for `endpoint` (sign-out on that device); others' are untouched. Idempotent. */
  async removePushSubscription(caller: Caller, endpoint: string): Promise<void> {
    await this.deps.store.removePushSubscription(caller.tenantId, caller.userId, endpoint);
  }

  /**
   * Chat raises a notification for participants with no connection: type
   * `message`, naming the sender and conversation, never the text. One unread
   * notification per conversation is enough; later messages do not pile up.
   */
  async onDomainEvent(event: DomainEvent): Promise<void> {
    if (event.type === "call.missed") return this.onMissedCall(event);
    if (event.type === "conversation.read") return this.onConversationRead(event);
    if (event.type !== "message.created") return;
    const { tenantId, message } = event;
    const now = new Date();
    for (const userId of event.participantIds) {
      // Most participants of a busy conversation are connected here: that check needs no await.
      if (userId === message.senderId || this.deps.registry.isConnected(tenantId, userId)) continue;
      if (await this.isConnectedElsewhere(tenantId, userId)) continue;
      if (await this.deps.store.hasUnread(tenantId, userId, "message", "conversationId", message.conversationId, now)) continue;
      const created = await this.deps.store.create({
        tenantId,
        userIds: [userId],
        type: "message",
        title: `New message from ${message.senderName}`,
        body: "",
        priority: "normal",
        data: { conversationId: message.conversationId, senderId: message.senderId, messageId: message.id },
        now,
      });
      await this.deliver(tenantId, created);
    }
  }

  /**
   * A conversation read to its end marks its `message` notification read, on
   * every device (`notification:unreadCount`): the reader has seen what it
   * announced, and the next message while they are away raises a new one.
   */
  private async onConversationRead(event: Extract<DomainEvent, { type: "conversation.read" }>): Promise<void> {
    const { tenantId, userId, conversationId } = event;
    const marked = await this.deps.store.markReadWhere(tenantId, userId, "message", "conversationId", conversationId, new Date());
    if (marked > 0) await this.announceCount(tenantId, userId);
  }

  /** A missed call leaves a `high` notification (Web Push when offline): who called, which call. */
  private async onMissedCall(event: Extract<DomainEvent, { type: "call.missed" }>): Promise<void> {
    const { tenantId, call, userIds } = event;
    const created = await this.deps.store.create({
      tenantId,
      userIds,
      type: "call.missed",
      title: `Missed ${call.media} call from ${call.callerId}`,
      body: "",
      priority: "high",
      data: { callId: call.id, callerId: call.callerId, media: call.media, ...(call.conversationId && { conversationId: call.conversationId }) },
      now: new Date(),
    });
    await this.deliver(tenantId, created);
  }

  private async deliver(tenantId: string, created: Notification[]): Promise<void> {
    if (created.length === 0) return;
    const userIds = created.map((n) => n.userId);
    for (const notification of created) {
      await this.deps.broker.publish({ tenantId, channels: [`user:${notification.userId}`], event: "notification:new", data: { notification } });
    }
    const counts = await this.deps.store.unreadCounts(tenantId, userIds, new Date());
    for (const [userId, count] of counts) {
      await this.deps.broker.publish({ tenantId, channels: [`user:${userId}`], event: "notification:unreadCount", data: { count } });
    }
    for (const notification of created) {
      if (notification.priority !== "high" && notification.priority !== "critical") continue;
      if (await this.isConnected(tenantId, notification.userId)) continue;
      void this.push(tenantId, notification).catch((err) => this.deps.logger.warn({ err: (err as Error).message }, "web push failed"));
    }
  }

  /** This node first (no I/O); then the other nodes. Unknown (Redis away) counts as offline: better a notification too many. */
  private async isConnected(tenantId: string, userId: string): Promise<boolean> {
    return this.deps.registry.isConnected(tenantId, userId) || this.isConnectedElsewhere(tenantId, userId);
  }

  /** The other nodes only (Redis): for callers that asked this node's registry themselves. */
  private async isConnectedElsewhere(tenantId: string, userId: string): Promise<boolean> {
    return (await this.deps.isConnectedAnywhere?.(tenantId, userId).catch(() => false)) ?? false;
  }

  /**
   * One push to each of the user's devices, side by side: a device whose push
   * service is unreachable or refuses costs that device's push and a log line,
   * never the others'.
   */
  private async push(tenantId: string, notification: Notification): Promise<void> {
    const push = this.deps.push;
    if (!push) return;
    const payload = { notificationId: notification.id, type: notification.type, title: notification.title, priority: notification.priority };
    const subscriptions = await this.deps.store.pushSubscriptions(tenantId, notification.userId);
    await Promise.all(
      subscriptions.map(async (subscription) => {
        try {
          const { gone } = await push.send(subscription, payload, notification.priority === "critical" ? "high" : "normal");
          if (gone) await this.deps.store.removePushSubscription(tenantId, notification.userId, subscription.endpoint);
        } catch (err) {
          this.deps.logger.warn({ err: (err as Error).message, origin: new URL(subscription.endpoint).origin }, "web push failed");
        }
      }),
    );
  }

  private async announceCount(tenantId: string, userId: string): Promise<number> {
    const count = (await this.deps.store.unreadCounts(tenantId, [userId], new Date())).get(userId) ?? 0;
    await this.deps.broker.publish({ tenantId, channels: [`user:${userId}`], event: "notification:unreadCount", data: { count } });
    return count;
  }
}

import type { Notification, NotificationPriority } from "@switchboard/protocol";

export interface NewNotifications {
  tenantId: string;
  userIds: string[];
  type: string;
  title: string;
  body: string;
  priority: NotificationPriority;
  data?: Record<string, unknown>;
  topic?: string;
  expiresAt?: Date;
  now: Date;
}

export interface PushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/**
 * Durable notifications, topic subscriptions and push subscriptions.
 *
 * Contract: `create` stores one row per recipient and resolves only after the
 * commit; expired notifications are neither listed nor counted; reads are
 * idempotent; everything is scoped to a tenant.
 */
export interface NotificationStore {
  create(input: NewNotifications): Promise<Notification[]>;
  list(tenantId: string, userId: string, query: { unreadOnly: boolean; before?: string; beforeId?: string; limit: number }, now: Date): Promise<{ notifications: Notification[]; hasMore: boolean }>;
  /** False when no such notification of this user exists. */
  markRead(tenantId: string, userId: string, id: string, now: Date): Promise<boolean>;
  markAllRead(tenantId: string, userId: string, now: Date): Promise<void>;
  unreadCounts(tenantId: string, userIds: string[], now: Date): Promise<Map<string, number>>;
  /** Whether the user has an unread, unexpired notification of `type` whose data has `key` = `value`. */
  hasUnread(tenantId: string, userId: string, type: string, key: string, value: string, now: Date): Promise<boolean>;
  /** Marks read the user's unread notifications of `type` whose data has `key` = `value`; resolves with how many it marked. */
  markReadWhere(tenantId: string, userId: string, type: string, key: string, value: string, now: Date): Promise<number>;
  /** The user's topics, sorted. */
  topics(tenantId: string, userId: string): Promise<string[]>;
  subscribe(tenantId: string, userId: string, topics: string[], now: Date): Promise<string[]>;
  unsubscribe(tenantId: string, userId: string, topics: string[]): Promise<string[]>;
  subscribers(tenantId: string, topic: string): Promise<string[]>;
  /** Stores (or refreshes) the user's subscription; an endpoint is one browser's, so any other user or tenant holding it loses it. */
  addPushSubscription(tenantId: string, userId: string, subscription: PushSubscription, now: Date): Promise<void>;
  pushSubscriptions(tenantId: string, userId: string): Promise<PushSubscription[]>;
  removePushSubscription(tenantId: string, userId: string, endpoint: string): Promise<void>;
}

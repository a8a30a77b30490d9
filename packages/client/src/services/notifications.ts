import type { Notification, NotificationListPayload } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import type { ServerEventData, Unsubscribe } from "../types.js";

/** The notification centre's state. Replaced on each change. */
export interface NotificationsSnapshot {
  /** Newest first: the first page, plus live arrivals and pages loaded with `loadMore`. */
  notifications: readonly Notification[];
  unreadCount: number;
  hasMore: boolean;
  loading: boolean;
}

/**
 * Notifications (PROTOCOL.md section 6): requests, plus a live feed
 * (`snapshot`/`subscribe`) that is started on first use and re-read after
 * every reconnect, so counts and lists stay right across outages.
 */
export class NotificationsService {
  private readonly changes = new Emitter<{ change: () => void }>();
  private state: NotificationsSnapshot = { notifications: [], unreadCount: 0, hasMore: false, loading: false };
  private started: Promise<void> | undefined;
  /** Per re-read in flight, the ids of `notification:new` events that came meanwhile: its page may be older than they are. */
  private readonly arrivals = new Set<Set<string>>();
  /** `notification:unreadCount` events seen: one after a re-read's count answer is newer than that answer. */
  private countEvents = 0;
  private wanted = false;

  constructor(private readonly connection: Connection) {
    connection.on("notification:new", ({ notification }) => {
      if (!this.started || this.state.notifications.some((n) => n.id === notification.id)) return;
      for (const arrivals of this.arrivals) arrivals.add(notification.id);
      this.update({ notifications: [notification, ...this.state.notifications] });
    });
    connection.on("notification:unreadCount", ({ count }) => {
      if (!this.started) return;
      this.countEvents++;
      this.update({ unreadCount: count });
      // Fewer unread than the feed shows: some were read elsewhere (another device, a conversation read to its end).
      if (count < this.state.notifications.filter((n) => !n.readAt).length) void this.reconcileRead(count).catch(() => {});
    });
    connection.events.on("resync", () => {
      if (this.started) void this.refresh().catch(() => {});
    });
    // A first read that failed (no connection in time) is retried once connected.
    connection.events.on("connected", () => {
      if (this.wanted && !this.started) void this.start();
    });
  }

  async list(options: NotificationListPayload = {}): Promise<{ notifications: Notification[]; hasMore: boolean }> {
    return this.connection.request("notification:list", options);
  }

  /** Marks one notification read; resolves with the unread count. */
  async markRead(id: string): Promise<number> {
    const { unreadCount } = await this.connection.request("notification:read", { id });
    this.readLocally((n) => n.id === id, { unreadCount });
    return unreadCount;
  }

  async markAllRead(): Promise<void> {
    await this.connection.request("notification:readAll", {});
    this.readLocally(() => true, { unreadCount: 0 });
  }

  async unreadCount(): Promise<number> {
    return (await this.connection.request("notification:getUnreadCount", {})).count;
  }

  /** Subscribes the user to topics (stored on the server); resolves with all their topics. */
  async subscribeTopics(topics: string[]): Promise<string[]> {
    return (await this.connection.request("notification:subscribe", { topics })).topics;
  }

  async unsubscribeTopics(topics: string[]): Promise<string[]> {
    return (await this.connection.request("notification:unsubscribe", { topics })).topics;
  }

  on<K extends "notification:new" | "notification:unreadCount">(event: K, handler: (data: ServerEventData<K>) => void): Unsubscribe {
    return this.connection.on(event, handler);
  }

  /** Starts the live feed (first page and count); idempotent. */
  start(): Promise<void> {
    this.wanted = true;
    this.started ??= this.refresh().catch(() => {
      this.started = undefined;
    });
    return this.started;
  }

  /** Loads the next (older) page into the feed. */
  async loadMore(): Promise<void> {
    const last = this.state.notifications.at(-1);
    const page = await this.list(last ? { before: last.createdAt, beforeId: last.id } : {});
    const known = new Set(this.state.notifications.map((n) => n.id));
    this.update({ notifications: [...this.state.notifications, ...page.notifications.filter((n) => !known.has(n.id))], hasMore: page.hasMore });
  }

  getSnapshot = (): NotificationsSnapshot => this.state;

  subscribe = (listener: () => void): Unsubscribe => this.changes.on("change", listener);

  private async refresh(): Promise<void> {
    this.update({ loading: true });
    const arrivals = new Set<string>();
    try {
      this.arrivals.add(arrivals);
      let eventsBeforeCount = 0;
      const counted = this.unreadCount().then((count) => ((eventsBeforeCount = this.countEvents), count));
      const [page, answered] = await Promise.all([this.list(), counted]);
      // Events and answers share one ordered connection: a count event after the answer is the newer count.
      const count = this.countEvents > eventsBeforeCount ? this.state.unreadCount : answered;
      // A `notification:new` that came while the page was read, and is not on it, stays in the feed.
      const inPage = new Set(page.notifications.map((n) => n.id));
      const arrived = this.state.notifications.filter((n) => arrivals.has(n.id) && !inPage.has(n.id));
      this.update({ notifications: [...arrived, ...page.notifications], hasMore: page.hasMore, unreadCount: count, loading: false });
    } catch (err) {
      this.update({ loading: false });
      throw err;
    } finally {
      this.arrivals.delete(arrivals);
    }
  }

  /**
   * Marks read in the feed what the server no longer counts unread: everything
   * when the count is 0; otherwise what is missing from the newest unread page,
   * down to that page's oldest (older ones it cannot speak for).
   */
  private async reconcileRead(count: number): Promise<void> {
    if (count === 0) return this.readLocally(() => true);
    const page = await this.list({ unreadOnly: true, limit: 100 });
    const unread = new Set(page.notifications.map((n) => n.id));
    const oldest = page.notifications.at(-1);
    // Past the page's oldest (when there is more) the page cannot say whether one is still unread.
    const beyondPage = (n: Notification) => page.hasMore && oldest !== undefined && !later(n, oldest) && n.id !== oldest.id;
    this.readLocally((n) => !unread.has(n.id) && !beyondPage(n));
  }

  /** Gives the feed's unread notifications that `read` picks a `readAt` of now (with `patch` in the same change). */
  private readLocally(read: (n: Notification) => boolean, patch: Partial<NotificationsSnapshot> = {}): void {
    const readAt = new Date().toISOString();
    this.update({ ...patch, notifications: this.state.notifications.map((n) => (!n.readAt && read(n) ? { ...n, readAt } : n)) });
  }

  private update(patch: Partial<NotificationsSnapshot>): void {
    this.state = { ...this.state, ...patch };
    this.changes.emit("change");
  }
}

/** Whether `a` comes before `b` in the server's newest-first order (by `createdAt`, then `id`). */
function later(a: Notification, b: Notification): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
}

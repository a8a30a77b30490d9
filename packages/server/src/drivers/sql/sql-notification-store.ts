import { randomUUID } from "node:crypto";
import type { Notification } from "@switchboard/protocol";
import type { NewNotifications, NotificationStore, PushSubscription } from "../../ports/notification-store.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";
import { pageBefore } from "./page-cursor.js";

interface Row {
  id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  priority: Notification["priority"];
  data: string | null;
  topic: string | null;
  created_at: Date | string;
  read_at: Date | string | null;
  expires_at: Date | string | null;
}

const COLUMNS = "id, user_id, type, title, body, priority, data, topic, created_at, read_at, expires_at";
const LIVE = "(expires_at is null or expires_at > $3)";

function toNotification(r: Row): Notification {
  const n: Notification = { id: r.id, userId: r.user_id, type: r.type, title: r.title, body: r.body, priority: r.priority, createdAt: iso(r.created_at) };
  if (r.data !== null) n.data = JSON.parse(r.data) as Record<string, unknown>;
  if (r.topic !== null) n.topic = r.topic;
  if (r.read_at !== null) n.readAt = iso(r.read_at);
  if (r.expires_at !== null) n.expiresAt = iso(r.expires_at);
  return n;
}

/** Notifications on Postgres or PGlite. */
export class SqlNotificationStore implements NotificationStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(input: NewNotifications): Promise<Notification[]> {
    if (input.userIds.length === 0) return [];
    const ids = input.userIds.map(() => randomUUID());
    const { rows } = await this.db.query<Row>(
      `insert into notifications (id, tenant_id, user_id, type, title, body, priority, data, topic, created_at, expires_at)
       select id, $3, user_id, $4, $5, $6, $7, $8, $9, $10, $11 from unnest($1::uuid[], $2::text[]) as r(id, user_id)
       returning ${COLUMNS}`,
      [ids, input.userIds, input.tenantId, input.type, input.title, input.body, input.priority, input.data ? JSON.stringify(input.data) : null, input.topic ?? null, input.now, input.expiresAt ?? null],
    );
    return rows.map(toNotification);
  }

  async list(tenantId: string, userId: string, query: { unreadOnly: boolean; before?: string; beforeId?: string; limit: number }, now: Date) {
    const { rows } = await this.db.query<Row>(
      `select ${COLUMNS} from notifications
        where tenant_id = $1 and user_id = $2 and ${LIVE}
          and ($4::boolean = false or read_at is null)
          and ${pageBefore("created_at", "id", "$5", "$7")}
        order by created_at desc, id desc limit $6`,
      [tenantId, userId, now, query.unreadOnly, query.before ?? null, query.limit + 1, query.beforeId ?? null],
    );
    return { notifications: rows.slice(0, query.limit).map(toNotification), hasMore: rows.length > query.limit };
  }

  async markRead(tenantId: string, userId: string, id: string, now: Date): Promise<boolean> {
    const { rows } = await this.db.query(
      "update notifications set read_at = coalesce(read_at, $4) where id = $3 and tenant_id = $1 and user_id = $2 returning 1",
      [tenantId, userId, id, now],
    );
    return rows.length > 0;
  }

  async markAllRead(tenantId: string, userId: string, now: Date): Promise<void> {
    await this.db.query("update notifications set read_at = $3 where tenant_id = $1 and user_id = $2 and read_at is null", [tenantId, userId, now]);
  }

  async unreadCounts(tenantId: string, userIds: string[], now: Date): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ user_id: string; n: number }>(
      `select user_id, count(*)::int as n from notifications
        where tenant_id = $1 and user_id = any($2::text[]) and read_at is null and ${LIVE} group by user_id`,
      [tenantId, userIds, now],
    );
    const counts = new Map(userIds.map((id) => [id, 0]));
    for (const r of rows) counts.set(r.user_id, Number(r.n));
    return counts;
  }

  async hasUnread(tenantId: string, userId: string, type: string, key: string, value: string, now: Date): Promise<boolean> {
    const { rows } = await this.db.query(
      `select 1 from notifications where tenant_id = $1 and user_id = $2 and ${LIVE} and read_at is null and type = $4
          and (data::json ->> $5) = $6 limit 1`,
      [tenantId, userId, now, type, key, value],
    );
    return rows.length > 0;
  }

  async markReadWhere(tenantId: string, userId: string, type: string, key: string, value: string, now: Date): Promise<number> {
    const { rows } = await this.db.query(
      `update notifications set read_at = $3
        where tenant_id = $1 and user_id = $2 and read_at is null and type = $4 and (data::json ->> $5) = $6
        returning 1`,
      [tenantId, userId, now, type, key, value],
    );
    return rows.length;
  }

  async subscribe(tenantId: string, userId: string, topics: string[], now: Date): Promise<string[]> {
    await this.db.query(
      "insert into topic_subscriptions (tenant_id, topic, user_id, created_at) select $1, t, $2, $4 from unnest($3::text[]) as t on conflict do nothing",
      [tenantId, userId, topics, now],
    );
    return this.topics(tenantId, userId);
  }

  async unsubscribe(tenantId: string, userId: string, topics: string[]): Promise<string[]> {
    await this.db.query("delete from topic_subscriptions where tenant_id = $1 and user_id = $2 and topic = any($3::text[])", [tenantId, userId, topics]);
    return this.topics(tenantId, userId);
  }

  async topics(tenantId: string, userId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ topic: string }>("select topic from topic_subscriptions where tenant_id = $1 and user_id = $2 order by topic", [tenantId, userId]);
    return rows.map((r) => r.topic);
  }

  async subscribers(tenantId: string, topic: string): Promise<string[]> {
    const { rows } = await this.db.query<{ user_id: string }>("select user_id from topic_subscriptions where tenant_id = $1 and topic = $2", [tenantId, topic]);
    return rows.map((r) => r.user_id);
  }

  async addPushSubscription(tenantId: string, userId: string, s: PushSubscription, now: Date): Promise<void> {
    // One statement: the endpoint's earlier holders (any user, any tenant) lose it as this user gains it.
    await this.db.query(
      `with taken as (
         delete from push_subscriptions where endpoint = $3 and not (tenant_id = $1 and user_id = $2)
       )
       insert into push_subscriptions (tenant_id, user_id, endpoint, p256dh, auth, created_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id, user_id, endpoint) do update set p256dh = excluded.p256dh, auth = excluded.auth`,
      [tenantId, userId, s.endpoint, s.keys.p256dh, s.keys.auth, now],
    );
  }

  async pushSubscriptions(tenantId: string, userId: string): Promise<PushSubscription[]> {
    const { rows } = await this.db.query<{ endpoint: string; p256dh: string; auth: string }>(
      "select endpoint, p256dh, auth from push_subscriptions where tenant_id = $1 and user_id = $2",
      [tenantId, userId],
    );
    return rows.map((r) => ({ endpoint: r.endpoint, keys: { p256dh: r.p256dh, auth: r.auth } }));
  }

  async removePushSubscription(tenantId: string, userId: string, endpoint: string): Promise<void> {
    await this.db.query("delete from push_subscriptions where tenant_id = $1 and user_id = $2 and endpoint = $3", [tenantId, userId, endpoint]);
  }
}

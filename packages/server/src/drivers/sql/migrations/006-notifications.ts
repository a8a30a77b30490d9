import type { Migration } from "../migrations.js";

/**
 * Notifications, one row per recipient (topic notifications are copied to each
 * subscriber when created, so read state is per user and offline subscribers
 * find them later), topic subscriptions, and Web Push subscriptions.
 *
 * Indexes: `(tenant_id, user_id, created_at desc)` for the newest-first list;
 * the partial `(tenant_id, user_id) where read_at is null` keeps unread counts
 * cheap however much history a user has.
 */
export const migration006: Migration = {
  version: 6,
  name: "notifications",
  sql: `
    create table notifications (
      id uuid primary key,
      tenant_id text not null,
      user_id text not null,
      type text not null,
      title text not null,
      body text not null,
      priority text not null check (priority in ('low', 'normal', 'high', 'critical')),
      data text,
      topic text,
      created_at timestamptz not null,
      read_at timestamptz,
      expires_at timestamptz
    );
    create index notifications_user_recent on notifications (tenant_id, user_id, created_at desc);
    create index notifications_user_unread on notifications (tenant_id, user_id) where read_at is null;

    create table topic_subscriptions (
      tenant_id text not null,
      topic text not null,
      user_id text not null,
      created_at timestamptz not null,
      primary key (tenant_id, topic, user_id)
    );
    create index topic_subscriptions_user on topic_subscriptions (tenant_id, user_id);

    create table push_subscriptions (
      tenant_id text not null,
      user_id text not null,
      endpoint text not null,
      p256dh text not null,
      auth text not null,
      created_at timestamptz not null,
      primary key (tenant_id, user_id, endpoint)
    );
  `,
};

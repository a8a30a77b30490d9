import type { Migration } from "../migrations.js";

/**
 * The durable part of presence, one row per (tenant, user): the status the user
 * chose (`online` = automatic), their custom status and when they were last
 * seen. Live connections are not stored here (PresenceStore), so a restart never
 * finds stale "online" rows. Version 3: version 2 belongs to chat.
 */
export const migration003: Migration = {
  version: 3,
  name: "presence",
  sql: `
    create table presence_records (
      tenant_id text not null,
      user_id text not null,
      status text not null default 'online' check (status in ('online', 'away', 'busy', 'offline')),
      custom_text text,
      mood_value smallint check (mood_value between 1 and 5),
      mood_label text,
      last_seen_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (tenant_id, user_id),
      check ((mood_value is null) = (mood_label is null))
    );
  `,
};

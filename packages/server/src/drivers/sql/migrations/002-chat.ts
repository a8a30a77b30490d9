import type { Migration } from "../migrations.js";

/**
 * Conversations, their participants (with per-user receipts) and messages.
 *
 * Indexes, and the query each one serves:
 * - `messages (conversation_id, seq)` unique: history pages by seq range, the
 *   last message of a conversation, unread counts (`seq > read_seq`), and the
 *   guarantee that no seq is used twice.
 * - `messages (tenant_id, sender_id, client_message_id)` unique, partial:
 *   idempotent sends.
 * - `conversation_participants (conversation_id, user_id)` primary key:
 *   membership checks and fan-out lists.
 * - `conversation_participants (tenant_id, user_id)`: a user's conversation list.
 * - `conversations (tenant_id, direct_key)` unique, partial: one direct
 *   conversation per pair of users.
 */
export const migration002: Migration = {
  version: 2,
  name: "chat",
  sql: `
    create table conversations (
      id uuid primary key,
      tenant_id text not null,
      type text not null check (type in ('direct', 'group')),
      title text,
      direct_key text,
      created_by text not null,
      created_at timestamptz not null,
      last_seq integer not null default 0,
      last_activity_at timestamptz not null
    );
    create unique index conversations_direct_key on conversations (tenant_id, direct_key) where direct_key is not null;

    create table conversation_participants (
      conversation_id uuid not null references conversations (id) on delete cascade,
      tenant_id text not null,
      user_id text not null,
      role text not null default 'member' check (role in ('admin', 'member')),
      joined_at timestamptz not null,
      delivered_seq integer not null default 0,
      delivered_at timestamptz,
      read_seq integer not null default 0,
      read_at timestamptz,
      primary key (conversation_id, user_id)
    );
    create index conversation_participants_user on conversation_participants (tenant_id, user_id);

    create table messages (
      id uuid primary key,
      tenant_id text not null,
      conversation_id uuid not null references conversations (id) on delete cascade,
      seq integer not null,
      sender_id text not null,
      sender_name text not null,
      body text not null,
      client_message_id text,
      reply_to uuid,
      created_at timestamptz not null,
      edited_at timestamptz,
      deleted_at timestamptz,
      constraint messages_conversation_seq unique (conversation_id, seq)
    );
    create unique index messages_client_id on messages (tenant_id, sender_id, client_message_id) where client_message_id is not null;
  `,
};

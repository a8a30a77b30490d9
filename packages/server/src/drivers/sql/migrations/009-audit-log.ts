import type { Migration } from "../migrations.js";

/**
 * Append-only audit trail: who (user, API key or system), what action on which
 * target, the result, when, and on which node. Never message bodies or tokens.
 * Rows are only ever inserted, and deleted by the retention sweep.
 */
export const migration009: Migration = {
  version: 9,
  name: "audit_log",
  sql: `
    create table audit_log (
      id bigint generated always as identity primary key,
      tenant_id text not null,
      actor text not null,
      actor_kind text not null check (actor_kind in ('user', 'api_key', 'system')),
      action text not null,
      target text,
      result text not null check (result in ('ok', 'denied', 'error')),
      detail text,
      node_id text not null,
      created_at timestamptz not null
    );
    create index audit_log_tenant_recent on audit_log (tenant_id, created_at desc);
    create index audit_log_created on audit_log (created_at);
  `,
};

import type { Migration } from "../migrations.js";

/**
 * Outgoing webhooks as a durable outbox: a delivery is stored when its event
 * happens and stays until the receiver answers 2xx or the attempts run out, so
 * a restart or a receiver outage loses nothing. The rows are also the delivery
 * log (attempts, last status, last error).
 */
export const migration005: Migration = {
  version: 5,
  name: "webhooks",
  sql: `
    create table webhook_deliveries (
      id uuid primary key,
      tenant_id text not null,
      url text not null,
      event text not null,
      payload text not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      lease_until timestamptz,
      last_status integer,
      last_error text,
      created_at timestamptz not null,
      delivered_at timestamptz
    );
    create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
    create index webhook_deliveries_tenant on webhook_deliveries (tenant_id, created_at desc);
  `,
};

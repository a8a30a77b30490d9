import type { Migration } from "../migrations.js";

/**
 * Nodes that have run against this database: when each started and was last
 * seen. The audit log and the scale-out issue use it to tell nodes apart.
 */
export const migration001: Migration = {
  version: 1,
  name: "nodes",
  sql: `
    create table nodes (
      node_id text primary key,
      started_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now()
    );
  `,
};

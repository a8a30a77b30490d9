import type { Migration } from "../migrations.js";

/**
 * Crisis alerts raised by screening: who, where, how severe, the matched
 * excerpt (never the whole message), and the support workflow (acknowledged,
 * resolved, escalated). `escalated_at` is set by a conditional update, so with
 * several nodes an unacknowledged critical alert is escalated exactly once.
 */
export const migration008: Migration = {
  version: 8,
  name: "crisis_alerts",
  sql: `
    create table crisis_alerts (
      id uuid primary key,
      tenant_id text not null,
      user_id text not null,
      conversation_id uuid,
      message_id uuid,
      kind text not null check (kind in ('message', 'mood')),
      severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
      category text,
      excerpt text not null,
      rules_version text not null,
      status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
      created_at timestamptz not null,
      acknowledged_by text,
      acknowledged_at timestamptz,
      resolved_by text,
      resolved_at timestamptz,
      resolution text,
      escalate_at timestamptz,
      escalated_at timestamptz
    );
    create index crisis_alerts_tenant_recent on crisis_alerts (tenant_id, created_at desc);
    create index crisis_alerts_due on crisis_alerts (escalate_at) where status = 'open' and escalated_at is null;
  `,
};

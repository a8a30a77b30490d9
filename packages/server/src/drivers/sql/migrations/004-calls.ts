import type { Migration } from "../migrations.js";

/**
 * Calls and their participants: the call state machine lives here, so every
 * transition is a conditional UPDATE that exactly one node can win (accepting,
 * ending, timing out), and `ring_deadline` lets any node finish a call whose
 * ringing timer was lost with its node. Quality samples feed the per-call
 * summary of the call history.
 */
export const migration004: Migration = {
  version: 4,
  name: "calls",
  sql: `
    create table calls (
      id uuid primary key,
      tenant_id text not null,
      conversation_id uuid,
      caller_id text not null,
      media text not null check (media in ('audio', 'video')),
      state text not null check (state in ('ringing', 'active', 'ended')),
      created_at timestamptz not null,
      ring_deadline timestamptz not null,
      started_at timestamptz,
      ended_at timestamptz,
      end_reason text
    );
    create index calls_open on calls (ring_deadline) where state <> 'ended';

    create table call_participants (
      call_id uuid not null references calls (id) on delete cascade,
      tenant_id text not null,
      user_id text not null,
      role text not null check (role in ('caller', 'callee')),
      status text not null check (status in ('ringing', 'joined', 'rejected', 'missed', 'busy', 'left')),
      primary key (call_id, user_id)
    );
    create index call_participants_user on call_participants (tenant_id, user_id, status);

    create table call_quality_samples (
      call_id uuid not null references calls (id) on delete cascade,
      user_id text not null,
      at timestamptz not null,
      rtt_ms real not null,
      jitter_ms real not null,
      packet_loss_pct real not null,
      bitrate_kbps real not null
    );
    create index call_quality_samples_call on call_quality_samples (call_id);
  `,
};

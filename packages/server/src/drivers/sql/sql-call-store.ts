import type { Call, CallEndReason, CallQualitySummary, CallRecord } from "@switchboard/protocol";
import type { CallParticipant, CallStore, CallWithParticipants, EndedCall, NewCall, ParticipantStatus } from "../../ports/call-store.js";
import type { SqlDatabase, SqlExecutor } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";
import { KeyedBatcher } from "./keyed-batcher.js";
import { pageBefore } from "./page-cursor.js";

interface CallRow {
  id: string;
  tenant_id: string;
  conversation_id: string | null;
  caller_id: string;
  media: "audio" | "video";
  state: Call["state"];
  created_at: Date | string;
  started_at: Date | string | null;
  ended_at: Date | string | null;
  end_reason: CallEndReason | null;
}

const CALL_COLUMNS = "id, tenant_id, conversation_id, caller_id, media, state, created_at, started_at, ended_at, end_reason";

function toCall(row: CallRow, participants: CallParticipant[]): Call {
  const call: Call = {
    id: row.id,
    callerId: row.caller_id,
    calleeIds: participants.filter((p) => p.role === "callee").map((p) => p.userId),
    media: row.media,
    state: row.state,
    createdAt: iso(row.created_at),
  };
  if (row.conversation_id) call.conversationId = row.conversation_id;
  if (row.started_at) call.startedAt = iso(row.started_at);
  if (row.ended_at) call.endedAt = iso(row.ended_at);
  if (row.end_reason) call.endReason = row.end_reason;
  return call;
}

function durationMs(call: Call): number {
  return call.startedAt && call.endedAt ? Date.parse(call.endedAt) - Date.parse(call.startedAt) : 0;
}

/** Calls on Postgres or PGlite. */
export class SqlCallStore implements CallStore {
  /** When many connections close at once (a node stopping, a network drop), their users' open calls are read together. */
  private readonly openCallReads = new KeyedBatcher<string[]>({ load: (tenantId, userIds) => this.loadOpenCalls(tenantId, userIds), maxInFlight: 2, maxKeys: 500 });

  constructor(private readonly db: SqlDatabase) {}

  async create(input: NewCall): Promise<CallWithParticipants | null> {
    return this.db.transaction(async (tx) => {
      // The caller and callees in one order, so two calls among the same people cannot wait on each other.
      await lockUsers(tx, input.tenantId, [input.callerId, ...input.calleeIds]);
      if ((await busyIn(tx, input.tenantId, [input.callerId])).length > 0) return null;
      await tx.query(
        `insert into calls (id, tenant_id, conversation_id, caller_id, media, state, created_at, ring_deadline)
         values ($1, $2, $3, $4, $5, 'ringing', $6, $7)`,
        [input.id, input.tenantId, input.conversationId ?? null, input.callerId, input.media, input.now, input.ringDeadline],
      );
      const busy = new Set(await busyIn(tx, input.tenantId, input.calleeIds));
      await tx.query("insert into call_participants (call_id, tenant_id, user_id, role, status) values ($1, $2, $3, 'caller', 'joined')", [
        input.id,
        input.tenantId,
        input.callerId,
      ]);
      for (const calleeId of input.calleeIds) {
        await tx.query("insert into call_participants (call_id, tenant_id, user_id, role, status) values ($1, $2, $3, 'callee', $4)", [
          input.id,
          input.tenantId,
          calleeId,
          busy.has(calleeId) ? "busy" : "ringing",
        ]);
      }
      return (await load(tx, input.tenantId, input.id))!;
    });
  }

  get(tenantId: string, callId: string): Promise<CallWithParticipants | null> {
    return load(this.db, tenantId, callId);
  }

  async accept(tenantId: string, callId: string, userId: string, now: Date): Promise<"accepted" | "busy" | "not_ringing"> {
    return this.db.transaction(async (tx) => {
      // The user's lock first (as `create` takes it), then the call row, which orders this against a concurrent end or timeout.
      await lockUsers(tx, tenantId, [userId]);
      const { rows } = await tx.query("select 1 from calls where id = $1 and tenant_id = $2 and state <> 'ended' for update", [callId, tenantId]);
      if (rows.length === 0) return "not_ringing";
      const ringing = await tx.query("select 1 from call_participants where call_id = $1 and user_id = $2 and status = 'ringing'", [callId, userId]);
      if (ringing.rows.length === 0) return "not_ringing";
      // Under the user's lock: two devices accepting two calls at once cannot both join.
      if ((await busyIn(tx, tenantId, [userId])).length > 0) return "busy";
      await tx.query("update call_participants set status = 'joined' where call_id = $1 and user_id = $2", [callId, userId]);
      await tx.query("update calls set state = 'active', started_at = coalesce(started_at, $2) where id = $1", [callId, now]);
      return "accepted";
    });
  }

  async joinedInOpenCalls(limit: number): Promise<{ tenantId: string; callId: string; userId: string; active: boolean }[]> {
    const { rows } = await this.db.query<{ tenant_id: string; id: string; user_id: string; state: string }>(
      `select c.tenant_id, c.id, p.user_id, c.state from calls c join call_participants p on p.call_id = c.id
        where c.state <> 'ended' and p.status = 'joined'
        order by c.ring_deadline limit $1`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, callId: r.id, userId: r.user_id, active: r.state === "active" }));
  }

  async transition(tenantId: string, callId: string, userId: string, from: ParticipantStatus[], to: ParticipantStatus): Promise<boolean> {
    const { rows } = await this.db.query(
      `update call_participants p set status = $4
         from calls c
        where c.id = p.call_id and c.id = $1 and c.tenant_id = $2 and c.state <> 'ended'
          and p.user_id = $3 and p.status = any($5::text[])
        returning 1`,
      [callId, tenantId, userId, to, from],
    );
    return rows.length > 0;
  }

  async end(tenantId: string, callId: string, reason: CallEndReason, now: Date): Promise<EndedCall | null> {
    return this.db.transaction(async (tx) => {
      const ended = await tx.query(
        "update calls set state = 'ended', ended_at = $3, end_reason = $4 where id = $1 and tenant_id = $2 and state <> 'ended' returning id",
        [callId, tenantId, now, reason],
      );
      if (ended.rows.length === 0) return null;
      const missed = await tx.query<{ user_id: string }>(
        "update call_participants set status = 'missed' where call_id = $1 and status = 'ringing' returning user_id",
        [callId],
      );
      const joined = await tx.query<{ user_id: string }>(
        "update call_participants set status = 'left' where call_id = $1 and status = 'joined' returning user_id",
        [callId],
      );
      const { call, participants } = (await load(tx, tenantId, callId))!;
      return { call, durationMs: durationMs(call), missed: missed.rows.map((r) => r.user_id), joined: joined.rows.map((r) => r.user_id), participants };
    });
  }

  async expireRinging(tenantId: string, callId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ user_id: string }>(
      `update call_participants p set status = 'missed'
         from calls c
        where c.id = p.call_id and c.id = $1 and c.tenant_id = $2 and p.status = 'ringing' and c.ring_deadline <= now()
        returning p.user_id`,
      [callId, tenantId],
    );
    return rows.map((r) => r.user_id);
  }

  async overdue(now: Date, limit: number): Promise<{ tenantId: string; callId: string }[]> {
    const { rows } = await this.db.query<{ id: string; tenant_id: string }>(
      `select c.id, c.tenant_id from calls c
        where c.state <> 'ended' and c.ring_deadline <= $1
          and (c.state = 'ringing' or exists (select 1 from call_participants p where p.call_id = c.id and p.status = 'ringing'))
        order by c.ring_deadline limit $2`,
      [now, limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, callId: r.id }));
  }

  async openCallsOf(tenantId: string, userId: string): Promise<string[]> {
    return (await this.openCallReads.run(tenantId, [userId])).get(userId) ?? [];
  }

  /** The open calls of several users of a tenant: one statement for the disconnects that run together. */
  private async loadOpenCalls(tenantId: string, userIds: string[]): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ user_id: string; call_id: string }>(
      `select p.user_id, p.call_id from call_participants p join calls c on c.id = p.call_id
        where p.tenant_id = $1 and p.user_id = any($2::text[]) and p.status = 'joined' and c.state <> 'ended'`,
      [tenantId, userIds],
    );
    const calls = new Map<string, string[]>();
    for (const row of rows) calls.set(row.user_id, [...(calls.get(row.user_id) ?? []), row.call_id]);
    return calls;
  }

  async addQualitySample(tenantId: string, callId: string, userId: string, s: { rttMs: number; jitterMs: number; packetLossPct: number; bitrateKbps: number }, now: Date): Promise<void> {
    await this.db.query(
      `insert into call_quality_samples (call_id, user_id, at, rtt_ms, jitter_ms, packet_loss_pct, bitrate_kbps)
       select id, $3, $4, $5, $6, $7, $8 from calls where id = $1 and tenant_id = $2`,
      [callId, tenantId, userId, now, s.rttMs, s.jitterMs, s.packetLossPct, s.bitrateKbps],
    );
  }

  async history(tenantId: string, userId: string, query: { limit: number; before?: string; beforeId?: string }): Promise<CallRecord[]> {
    const { rows } = await this.db.query<CallRow & { quality: Record<string, number> | null }>(
      `select ${CALL_COLUMNS.split(", ").map((c) => `c.${c}`).join(", ")},
              (select json_build_object('samples', count(*), 'rttAvg', avg(rtt_ms), 'rttMax', max(rtt_ms), 'jitterAvg', avg(jitter_ms),
                        'jitterMax', max(jitter_ms), 'lossAvg', avg(packet_loss_pct), 'lossMax', max(packet_loss_pct),
                        'bitrateAvg', avg(bitrate_kbps), 'bitrateMin', min(bitrate_kbps))
                 from call_quality_samples q where q.call_id = c.id having count(*) > 0) as quality
         from call_participants p join calls c on c.id = p.call_id
        where p.tenant_id = $1 and p.user_id = $2
          and ${pageBefore("c.created_at", "c.id", "$3", "$5")}
        order by c.created_at desc, c.id desc limit $4`,
      [tenantId, userId, query.before ?? null, query.limit, query.beforeId ?? null],
    );
    const participants = await participantsOf(this.db, rows.map((r) => r.id));
    return rows.map((row) => {
      const list = participants.get(row.id) ?? [];
      const call = toCall(row, list);
      return { ...call, durationMs: call.state === "ended" ? durationMs(call) : null, participants: list, quality: summarize(row.quality) };
    });
  }
}

function summarize(q: Record<string, number> | null): CallQualitySummary | null {
  if (!q) return null;
  const r = (v: number) => Math.round(Number(v) * 100) / 100;
  return {
    samples: Number(q.samples),
    rttMs: { avg: r(q.rttAvg!), max: r(q.rttMax!) },
    jitterMs: { avg: r(q.jitterAvg!), max: r(q.jitterMax!) },
    packetLossPct: { avg: r(q.lossAvg!), max: r(q.lossMax!) },
    bitrateKbps: { avg: r(q.bitrateAvg!), min: r(q.bitrateMin!) },
  };
}

/**
 * Serializes, until the transaction ends, the call transitions that make these
 * users `joined` (starting a call, accepting one): the "already in a call" check
 * and the write must not interleave with another node's, or one user ends up in
 * two calls. Taken in sorted order, so transactions locking several never deadlock.
 */
async function lockUsers(tx: SqlExecutor, tenantId: string, userIds: string[]): Promise<void> {
  for (const userId of [...new Set(userIds)].sort()) {
    await tx.query("select pg_advisory_xact_lock(hashtext($1))", [`switchboard call user ${tenantId}/${userId}`]);
  }
}

async function busyIn(db: SqlExecutor, tenantId: string, userIds: string[]): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    `select distinct p.user_id from call_participants p join calls c on c.id = p.call_id
      where p.tenant_id = $1 and p.user_id = any($2::text[]) and p.status = 'joined' and c.state <> 'ended'`,
    [tenantId, userIds],
  );
  return rows.map((r) => r.user_id);
}

async function load(db: SqlExecutor, tenantId: string, callId: string): Promise<CallWithParticipants | null> {
  const { rows } = await db.query<CallRow>(`select ${CALL_COLUMNS} from calls where id = $1 and tenant_id = $2`, [callId, tenantId]);
  if (!rows[0]) return null;
  const participants = (await participantsOf(db, [callId])).get(callId) ?? [];
  return { tenantId, call: toCall(rows[0], participants), participants };
}

async function participantsOf(db: SqlExecutor, callIds: string[]): Promise<Map<string, CallParticipant[]>> {
  const map = new Map<string, CallParticipant[]>();
  if (callIds.length === 0) return map;
  const { rows } = await db.query<{ call_id: string; user_id: string; role: "caller" | "callee"; status: ParticipantStatus }>(
    "select call_id, user_id, role, status from call_participants where call_id = any($1::uuid[]) order by role desc, user_id",
    [callIds],
  );
  for (const row of rows) {
    const list = map.get(row.call_id) ?? [];
    list.push({ userId: row.user_id, role: row.role, status: row.status });
    map.set(row.call_id, list);
  }
  return map;
}

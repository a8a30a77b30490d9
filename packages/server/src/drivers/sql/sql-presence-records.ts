import type { ChosenStatus, CustomStatus } from "@switchboard/protocol";
import type { PresenceRecord, PresenceRecordPatch, PresenceRecords } from "../../ports/presence-records.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { KeyedBatcher } from "./keyed-batcher.js";

interface Row {
  user_id: string;
  status: ChosenStatus;
  custom_text: string | null;
  mood_value: number | null;
  mood_label: string | null;
  last_seen_at: Date | string | null;
}

const COLUMNS = "user_id, status, custom_text, mood_value, mood_label, last_seen_at";

/** {@link PresenceRecords} in the `presence_records` table (migration 003), for PGlite and Postgres alike. */
export class SqlPresenceRecords implements PresenceRecords {
  /** Concurrent reads (every connection of a reconnect storm reads its user's record) share statements. */
  private readonly reads = new KeyedBatcher<PresenceRecord>({ load: (tenantId, userIds) => this.load(tenantId, userIds), maxInFlight: 2, maxKeys: 500 });
  /** lastSeen writes of users leaving together (a node stopping closes every connection) share statements, in order. */
  private readonly lastSeenWrites = new KeyedBatcher<PresenceRecord, string>({
    load: (tenantId, userIds, at) => this.writeLastSeen(tenantId, userIds, at),
    maxInFlight: 1,
    maxKeys: 500,
    distinctKeys: true,
  });

  constructor(private readonly db: SqlDatabase) {}

  async get(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    if (userIds.length === 0) return new Map();
    return this.reads.run(tenantId, userIds);
  }

  private async load(tenantId: string, userIds: string[]): Promise<Map<string, PresenceRecord>> {
    const records = new Map<string, PresenceRecord>();
    const { rows } = await this.db.query<Row>(
      `select ${COLUMNS} from presence_records where tenant_id = $1 and user_id = any($2::text[])`,
      [tenantId, userIds],
    );
    for (const row of rows) records.set(row.user_id, toRecord(row));
    return records;
  }

  async update(tenantId: string, userId: string, patch: PresenceRecordPatch): Promise<PresenceRecord> {
    if (patch.lastSeen && patch.status === undefined && patch.custom === undefined) {
      return (await this.lastSeenWrites.run(tenantId, [userId], [patch.lastSeen])).get(userId)!;
    }
    // One upsert: a missing field keeps the stored value ($7 says whether custom is part of the patch).
    const custom = patch.custom ?? null;
    const { rows } = await this.db.query<Row>(
      `insert into presence_records as p (tenant_id, user_id, status, custom_text, mood_value, mood_label, last_seen_at)
       values ($1, $2, coalesce($3::text, 'online'), $4::text, $5::smallint, $6::text, $8::timestamptz)
       on conflict (tenant_id, user_id) do update set
         status = coalesce($3::text, p.status),
         custom_text = case when $7::boolean then excluded.custom_text else p.custom_text end,
         mood_value = case when $7::boolean then excluded.mood_value else p.mood_value end,
         mood_label = case when $7::boolean then excluded.mood_label else p.mood_label end,
         last_seen_at = coalesce($8::timestamptz, p.last_seen_at),
         updated_at = now()
       returning ${COLUMNS}`,
      [
        tenantId,
        userId,
        patch.status ?? null,
        custom?.text ?? null,
        custom?.mood?.value ?? null,
        custom?.mood?.label ?? null,
        patch.custom !== undefined,
        patch.lastSeen ?? null,
      ],
    );
    return toRecord(rows[0]!);
  }

  /** The same upsert as {@link update} for patches that only set lastSeen, for several users at once. */
  private async writeLastSeen(tenantId: string, userIds: string[], at: string[]): Promise<Map<string, PresenceRecord>> {
    const { rows } = await this.db.query<Row>(
      `insert into presence_records as p (tenant_id, user_id, status, last_seen_at)
       select $1, u.user_id, 'online', u.at from unnest($2::text[], $3::timestamptz[]) as u(user_id, at)
       on conflict (tenant_id, user_id) do update set last_seen_at = excluded.last_seen_at, updated_at = now()
       returning ${COLUMNS}`,
      [tenantId, userIds, at],
    );
    return new Map(rows.map((row) => [row.user_id, toRecord(row)]));
  }
}

function toRecord(row: Row): PresenceRecord {
  const custom: CustomStatus = {};
  if (row.custom_text !== null) custom.text = row.custom_text;
  if (row.mood_value !== null && row.mood_label !== null) custom.mood = { value: Number(row.mood_value), label: row.mood_label };
  return {
    status: row.status,
    custom: custom.text === undefined && custom.mood === undefined ? null : custom,
    lastSeen: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString(),
  };
}

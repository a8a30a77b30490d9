import type { AuditEntry, AuditLogStore, AuditQuery, AuditRecord } from "../../ports/audit-log.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";

/** The audit log on Postgres or PGlite: one multi-row INSERT per flushed batch. */
export class SqlAuditLog implements AuditLogStore {
  constructor(private readonly db: SqlDatabase) {}

  async append(entries: AuditEntry[], nodeId: string): Promise<void> {
    if (entries.length === 0) return;
    await this.db.query(
      `insert into audit_log (tenant_id, actor, actor_kind, action, target, result, detail, node_id, created_at)
       select t, a, k, ac, tg, r, d, $8, at from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $9::timestamptz[])
         as e(t, a, k, ac, tg, r, d, at)`,
      [
        entries.map((e) => e.tenantId),
        entries.map((e) => e.actor),
        entries.map((e) => e.actorKind),
        entries.map((e) => e.action),
        entries.map((e) => e.target ?? null),
        entries.map((e) => e.result),
        entries.map((e) => e.detail ?? null),
        nodeId,
        entries.map((e) => e.at),
      ],
    );
  }

  async query(tenantId: string, q: AuditQuery): Promise<AuditRecord[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(
      `select id, tenant_id, actor, actor_kind, action, target, result, detail, node_id, created_at from audit_log
        where tenant_id = $1 and ($2::text is null or action = $2) and ($3::text is null or actor = $3) and ($4::text is null or result = $4)
          and ($5::timestamptz is null or created_at >= $5::timestamptz) and ($6::timestamptz is null or created_at < $6::timestamptz)
        order by created_at desc, id desc limit $7`,
      [tenantId, q.action ?? null, q.actor ?? null, q.result ?? null, q.from ?? null, q.to ?? null, q.limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      tenantId: r.tenant_id as string,
      actor: r.actor as string,
      actorKind: r.actor_kind as AuditRecord["actorKind"],
      action: r.action as string,
      target: (r.target as string | null) ?? undefined,
      result: r.result as AuditRecord["result"],
      detail: (r.detail as string | null) ?? undefined,
      nodeId: r.node_id as string,
      createdAt: iso(r.created_at as Date | string),
    }));
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query("delete from audit_log where created_at < $1 returning 1", [cutoff]);
    return rows.length;
  }
}

import type { CrisisAlert, CrisisAlertStore, NewCrisisAlert } from "../../ports/crisis-alert-store.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";

type Row = Record<string, unknown>;
const COLUMNS =
  "id, tenant_id, user_id, conversation_id, message_id, kind, severity, category, excerpt, rules_version, status, created_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, resolution, escalated_at";

const time = (v: unknown) => (v === null || v === undefined ? null : iso(v as Date | string));

function toAlert(r: Row): CrisisAlert {
  return {
    alertId: r.id as string,
    tenantId: r.tenant_id as string,
    userId: r.user_id as string,
    conversationId: (r.conversation_id as string | null) ?? null,
    messageId: (r.message_id as string | null) ?? null,
    kind: r.kind as CrisisAlert["kind"],
    severity: r.severity as CrisisAlert["severity"],
    category: (r.category as string | null) ?? null,
    excerpt: r.excerpt as string,
    rulesVersion: r.rules_version as string,
    status: r.status as CrisisAlert["status"],
    createdAt: iso(r.created_at as Date | string),
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    acknowledgedAt: time(r.acknowledged_at),
    resolvedBy: (r.resolved_by as string | null) ?? null,
    resolvedAt: time(r.resolved_at),
    resolution: (r.resolution as string | null) ?? null,
    escalatedAt: time(r.escalated_at),
  };
}

/** Crisis alerts on Postgres or PGlite. */
export class SqlCrisisAlertStore implements CrisisAlertStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(a: NewCrisisAlert): Promise<CrisisAlert> {
    const { rows } = await this.db.query<Row>(
      `insert into crisis_alerts (id, tenant_id, user_id, conversation_id, message_id, kind, severity, category, excerpt, rules_version, created_at, escalate_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning ${COLUMNS}`,
      [a.alertId, a.tenantId, a.userId, a.conversationId, a.messageId, a.kind, a.severity, a.category, a.excerpt, a.rulesVersion, a.now, a.escalateAt],
    );
    return toAlert(rows[0]!);
  }

  async openForMessage(tenantId: string, messageId: string): Promise<CrisisAlert[]> {
    const { rows } = await this.db.query<Row>(`select ${COLUMNS} from crisis_alerts where tenant_id = $1 and message_id = $2 and status = 'open'`, [tenantId, messageId]);
    return rows.map(toAlert);
  }

  async get(tenantId: string, alertId: string): Promise<CrisisAlert | null> {
    const { rows } = await this.db.query<Row>(`select ${COLUMNS} from crisis_alerts where id = $1 and tenant_id = $2`, [alertId, tenantId]);
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async acknowledge(tenantId: string, alertId: string, by: string, now: Date): Promise<CrisisAlert | null> {
    const { rows } = await this.db.query<Row>(
      `update crisis_alerts set status = 'acknowledged', acknowledged_by = $3, acknowledged_at = $4
        where id = $1 and tenant_id = $2 and status = 'open' returning ${COLUMNS}`,
      [alertId, tenantId, by, now],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async resolve(tenantId: string, alertId: string, by: string, resolution: string | null, now: Date): Promise<CrisisAlert | null> {
    const { rows } = await this.db.query<Row>(
      `update crisis_alerts set status = 'resolved', resolved_by = $3, resolved_at = $4, resolution = $5
        where id = $1 and tenant_id = $2 and status <> 'resolved' returning ${COLUMNS}`,
      [alertId, tenantId, by, now, resolution],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async claimEscalations(now: Date, limit: number): Promise<CrisisAlert[]> {
    const { rows } = await this.db.query<Row>(
      `update crisis_alerts set escalated_at = $1
        where id in (select id from crisis_alerts where status = 'open' and escalated_at is null and escalate_at <= $1
                      order by escalate_at limit $2 for update skip locked)
        returning ${COLUMNS}`,
      [now, limit],
    );
    return rows.map(toAlert);
  }

  async list(tenantId: string, query: { status?: CrisisAlert["status"]; limit: number }): Promise<CrisisAlert[]> {
    const { rows } = await this.db.query<Row>(
      `select ${COLUMNS} from crisis_alerts where tenant_id = $1 and ($2::text is null or status = $2) order by created_at desc limit $3`,
      [tenantId, query.status ?? null, query.limit],
    );
    return rows.map(toAlert);
  }
}

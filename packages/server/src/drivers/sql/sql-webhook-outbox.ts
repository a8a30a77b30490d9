import type { WebhookDelivery, WebhookOutbox } from "../../ports/webhook-outbox.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";

interface Row {
  id: string;
  tenant_id: string;
  url: string;
  event: string;
  payload: string;
  attempts: number;
  status: WebhookDelivery["status"];
  last_status: number | null;
  last_error: string | null;
  created_at: Date | string;
  delivered_at: Date | string | null;
}

const COLUMNS = "id, tenant_id, url, event, payload, attempts, status, last_status, last_error, created_at, delivered_at";

function toDelivery(r: Row): WebhookDelivery {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    event: r.event,
    payload: r.payload,
    attempts: Number(r.attempts),
    status: r.status,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    deliveredAt: r.delivered_at ? iso(r.delivered_at) : null,
  };
}

/** The webhook outbox on Postgres or PGlite; `skip locked` keeps nodes off each other's rows. */
export class SqlWebhookOutbox implements WebhookOutbox {
  constructor(private readonly db: SqlDatabase) {}

  async enqueue(d: { id: string; tenantId: string; url: string; event: string; payload: string; now: Date }): Promise<void> {
    await this.db.query(
      "insert into webhook_deliveries (id, tenant_id, url, event, payload, next_attempt_at, created_at) values ($1, $2, $3, $4, $5, $6, $6)",
      [d.id, d.tenantId, d.url, d.event, d.payload, d.now],
    );
  }

  async claimDue(now: Date, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<Row>(
      `update webhook_deliveries set lease_until = $1::timestamptz + ($3::int * interval '1 millisecond'), attempts = attempts + 1
        where id in (
          select id from webhook_deliveries
           where status = 'pending' and next_attempt_at <= $1 and (lease_until is null or lease_until <= $1)
           order by next_attempt_at limit $2 for update skip locked)
        returning ${COLUMNS}`,
      [now, limit, leaseMs],
    );
    return rows.map(toDelivery);
  }

  async markDelivered(id: string, status: number, now: Date): Promise<void> {
    await this.db.query("update webhook_deliveries set status = 'delivered', last_status = $2, last_error = null, delivered_at = $3, lease_until = null where id = $1", [id, status, now]);
  }

  async markFailed(id: string, status: number | null, error: string, retryAt: Date | null): Promise<void> {
    await this.db.query(
      `update webhook_deliveries set last_status = $2, last_error = $3, lease_until = null,
              status = case when $4::timestamptz is null then 'failed' else 'pending' end,
              next_attempt_at = coalesce($4::timestamptz, next_attempt_at)
        where id = $1`,
      [id, status, error.slice(0, 500), retryAt],
    );
  }

  async hasPending(): Promise<boolean> {
    // Answered from the partial index of pending rows.
    const { rows } = await this.db.query<{ pending: boolean }>("select exists (select 1 from webhook_deliveries where status = 'pending') as pending");
    return rows[0]!.pending;
  }

  async list(tenantId: string, limit: number): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<Row>(`select ${COLUMNS} from webhook_deliveries where tenant_id = $1 order by created_at desc limit $2`, [tenantId, limit]);
    return rows.map(toDelivery);
  }
}

export interface CrisisAlert {
  alertId: string;
  tenantId: string;
  userId: string;
  conversationId: string | null;
  messageId: string | null;
  kind: "message" | "mood";
  severity: "low" | "medium" | "high" | "critical";
  category: string | null;
  excerpt: string;
  rulesVersion: string;
  status: "open" | "acknowledged" | "resolved";
  createdAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolution: string | null;
  escalatedAt: string | null;
}

export type NewCrisisAlert = Pick<CrisisAlert, "alertId" | "tenantId" | "userId" | "conversationId" | "messageId" | "kind" | "severity" | "category" | "excerpt" | "rulesVersion"> & {
  now: Date;
  /** When an unacknowledged alert is escalated (critical ones); null = never. */
  escalateAt: Date | null;
};

/**
 * Stored crisis alerts. Contract: status moves open -> acknowledged -> resolved
 * (or open -> resolved), never back; `claimEscalations` hands each due alert to
 * exactly one caller.
 */
export interface CrisisAlertStore {
  create(alert: NewCrisisAlert): Promise<CrisisAlert>;
  get(tenantId: string, alertId: string): Promise<CrisisAlert | null>;
  acknowledge(tenantId: string, alertId: string, by: string, now: Date): Promise<CrisisAlert | null>;
  resolve(tenantId: string, alertId: string, by: string, resolution: string | null, now: Date): Promise<CrisisAlert | null>;
  claimEscalations(now: Date, limit: number): Promise<CrisisAlert[]>;
  list(tenantId: string, query: { status?: CrisisAlert["status"]; limit: number }): Promise<CrisisAlert[]>;
  /** Alerts about this message not yet acknowledged or resolved. */
  openForMessage(tenantId: string, messageId: string): Promise<CrisisAlert[]>;
}

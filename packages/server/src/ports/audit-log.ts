export interface AuditEntry {
  tenantId: string;
  actor: string;
  actorKind: "user" | "api_key" | "system";
  action: string;
  target?: string;
  result: "ok" | "denied" | "error";
  /** A code or short reason; never message text, never a token. */
  detail?: string;
  at: Date;
}

export interface AuditRecord extends Omit<AuditEntry, "at"> {
  id: number;
  nodeId: string;
  createdAt: string;
}

export interface AuditQuery {
  action?: string;
  actor?: string;
  result?: AuditEntry["result"];
  from?: string;
  to?: string;
  limit: number;
}

/**
 * Append-only audit storage. Contract: `append` only inserts; `purgeBefore` is
 * the one deletion (retention); queries are per tenant, newest first.
 */
export interface AuditLogStore {
  append(entries: AuditEntry[], nodeId: string): Promise<void>;
  query(tenantId: string, query: AuditQuery): Promise<AuditRecord[]>;
  purgeBefore(cutoff: Date): Promise<number>;
}

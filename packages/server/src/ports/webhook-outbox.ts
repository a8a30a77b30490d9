export interface WebhookDelivery {
  id: string;
  tenantId: string;
  url: string;
  event: string;
  /** The exact body that is signed and sent. */
  payload: string;
  attempts: number;
  status: "pending" | "delivered" | "failed";
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/**
 * Durable queue of webhook deliveries.
 *
 * Contract: `claimDue` leases due deliveries for `leaseMs` and counts the
 * attempt; a delivery leased by one node is not handed to another until the
 * lease expires (a node that died mid-delivery is retried after it). At least
 * once: a receiver may see a delivery twice and should dedupe by its id.
 */
export interface WebhookOutbox {
  enqueue(delivery: { id: string; tenantId: string; url: string; event: string; payload: string; now: Date }): Promise<void>;
  claimDue(now: Date, limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  markDelivered(id: string, status: number, now: Date): Promise<void>;
  /** `retryAt` null: give up (status failed). */
  markFailed(id: string, status: number | null, error: string, retryAt: Date | null): Promise<void>;
  list(tenantId: string, limit: number): Promise<WebhookDelivery[]>;
  /** Whether any delivery is still pending: due, leased or waiting for a retry. */
  hasPending(): Promise<boolean>;
}

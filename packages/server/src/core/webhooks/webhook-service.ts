import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { WebhookDelivery, WebhookOutbox } from "../../ports/webhook-outbox.js";
import type { DomainEvent, DomainEvents } from "../domain-events.js";
import { signWebhook } from "./webhook-signature.js";

export interface WebhookServiceOptions {
  /** Default receiver; per-tenant URLs override it. */
  url?: string;
  tenantUrls: Record<string, string>;
  secret?: string;
  maxAttempts: number;
  /** First retry delay; doubles per attempt, capped at one hour. */
  retryBaseMs: number;
  pollMs: number;
  timeoutMs: number;
  logger: Logger;
}

const LEASE_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;
/** The domain events a receiver gets (docs/protocol.md); the others are the server's own bookkeeping. */
const WEBHOOK_EVENTS: ReadonlySet<DomainEvent["type"]> = new Set(["user.online", "user.offline", "message.created", "call.missed", "crisis.alert"]);

/**
 * Outgoing webhooks (`user.online`, `user.offline`, `message.created`,
 * `call.missed`, `crisis.alert`): each event is written to the outbox, then
 * POSTed signed, retried with exponential backoff on errors and non-2xx
 * answers, and recorded in the delivery log.
 *
 * The outbox is polled every `pollMs` for due deliveries (retries, and rows
 * of a node that died mid-delivery). A node with no receiver configured
 * stores nothing new, so it polls only until the deliveries an earlier
 * configuration left are done, then stops: an idle server without webhooks
 * makes no outbox query a second and no timer wakes it for one.
 */
export class WebhookService {
  private poller: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly outbox: WebhookOutbox,
    events: DomainEvents,
    private readonly options: WebhookServiceOptions,
  ) {
    events.on((event) => this.enqueue(event));
    this.poller = setInterval(() => this.kick(), options.pollMs);
    this.poller.unref();
    // Without a receiver, the first round tells at once whether anything is left to deliver.
    if (!this.enabled) this.kick();
  }

  /** Whether the outbox is still polled (false once a node without receivers has nothing left to deliver). */
  get polling(): boolean {
    return this.poller !== undefined;
  }

  /** Whether any tenant has a receiver (otherwise events are not stored at all). */
  get enabled(): boolean {
    return Boolean(this.options.url) || Object.keys(this.options.tenantUrls).length > 0;
  }

  private async enqueue(event: DomainEvent): Promise<void> {
    if (!WEBHOOK_EVENTS.has(event.type)) return;
    // Own keys only: a tenant named `constructor` or `toString` has no entry of its own and uses WEBHOOK_URL.
    const url = (Object.hasOwn(this.options.tenantUrls, event.tenantId) ? this.options.tenantUrls[event.tenantId] : undefined) ?? this.options.url;
    if (!url) return;
    const { type, tenantId, ...data } = event;
    const id = randomUUID();
    const now = new Date();
    const payload = JSON.stringify({ id, type, tenantId, createdAt: now.toISOString(), data });
    await this.outbox.enqueue({ id, tenantId, url, event: type, payload, now });
    this.kick();
  }

  /** Starts a delivery round unless one is running. */
  kick(): void {
    if (this.closed || this.running) return;
    this.running = this.deliverDue()
      .catch((err) => this.options.logger.warn({ err }, "webhook delivery round failed"))
      .finally(() => (this.running = undefined));
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      const due = await this.outbox.claimDue(new Date(), 20, LEASE_MS);
      if (due.length === 0) break;
      await Promise.all(due.map((delivery) => this.deliver(delivery)));
    }
    // No receiver: nothing new can be stored, so once no delivery is pending there is nothing to poll for.
    if (!this.enabled && !(await this.outbox.hasPending())) this.stopPolling();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "Switchboard-Webhooks/1",
      "x-switchboard-event": delivery.event,
      "x-switchboard-delivery": delivery.id,
      "x-switchboard-attempt": String(delivery.attempts),
    };
    if (this.options.secret) headers["x-switchboard-signature"] = signWebhook(this.options.secret, delivery.payload, timestamp);
    let status: number | null = null;
    let error: string;
    try {
      // A redirect is a failed attempt (retried), never followed: the signed payload stays with the configured receiver.
      const response = await fetch(delivery.url, { method: "POST", headers, body: delivery.payload, redirect: "manual", signal: AbortSignal.timeout(this.options.timeoutMs) });
      status = response.status;
      await response.body?.cancel();
      if (response.ok) return this.outbox.markDelivered(delivery.id, status, new Date());
      error = `receiver answered ${status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    const retry = delivery.attempts < this.options.maxAttempts;
    const delay = Math.min(this.options.retryBaseMs * 2 ** (delivery.attempts - 1), MAX_RETRY_MS);
    this.options.logger.info({ id: delivery.id, event: delivery.event, attempt: delivery.attempts, status, error, retry }, "webhook delivery failed");
    await this.outbox.markFailed(delivery.id, status, error, retry ? new Date(Date.now() + delay) : null);
  }

  /** The delivery log of a tenant, newest first. */
  log(tenantId: string, limit = 50): Promise<WebhookDelivery[]> {
    return this.outbox.list(tenantId, limit);
  }

  /** Stops polling and waits for a delivery round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    await this.running;
  }
}

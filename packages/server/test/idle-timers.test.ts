import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuditService } from "../src/core/audit/audit-service.js";
import { DomainEvents } from "../src/core/domain-events.js";
import { WebhookService } from "../src/core/webhooks/webhook-service.js";
import type { AuditEntry, AuditLogStore } from "../src/ports/audit-log.js";
import type { WebhookDelivery, WebhookOutbox } from "../src/ports/webhook-outbox.js";

/**
 * What wakes an idle server: the audit trail's flush and the webhook outbox's
 * poll run only while they have work. The delivered results (entries written,
 * webhooks sent, leftovers delivered after the receiver setting is removed) are
 * in audit.test.ts and webhooks.test.ts against a real server; here fake timers
 * show which timers are left armed, which no client can see.
 */
describe("timers of an idle server", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const logger = pino({ level: "silent" });

  function auditOver(append: (batch: AuditEntry[]) => Promise<void>) {
    const store = { append, query: async () => [], purgeBefore: async () => 0 } as unknown as AuditLogStore;
    return new AuditService(store, { nodeId: "n1", retentionDays: 30, flushMs: 500, logger });
  }
  const entry = { tenantId: "acme", actor: "alice", actorKind: "user", action: "connect", target: "c1", result: "ok" } as const;

  it("the audit trail arms no flush while nothing is buffered", async () => {
    const append = vi.fn(async (_batch: AuditEntry[]) => {});
    const audit = auditOver(append);
    const idle = vi.getTimerCount(); // the hourly retention sweep
    await vi.advanceTimersByTimeAsync(5_000);
    expect(append).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(idle);

    audit.record(entry);
    audit.recordRepeated(entry);
    expect(vi.getTimerCount()).toBe(idle + 1);
    await vi.advanceTimersByTimeAsync(499);
    expect(append).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(append).toHaveBeenCalledTimes(1);
    expect(append.mock.calls[0]![0]).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(idle);
    await audit.close();
  });

  it("an audit flush that fails is retried a window later and loses nothing", async () => {
    const written: AuditEntry[][] = [];
    let failures = 1;
    const audit = auditOver(async (batch) => {
      if (failures-- > 0) throw new Error("database down");
      written.push(batch);
    });
    audit.record(entry);
    await vi.advanceTimersByTimeAsync(500);
    expect(written).toEqual([]);
    audit.record({ ...entry, target: "c2" });
    await vi.advanceTimersByTimeAsync(500);
    expect(written.map((batch) => batch.map((e) => e.target))).toEqual([["c1", "c2"]]);
    await audit.close();
  });

  /** An outbox holding `pending` deliveries, none of them due, counting its polls. */
  function outboxWith(pending: number) {
    const outbox = {
      pending,
      claims: 0,
      enqueue: async () => {},
      claimDue: async (): Promise<WebhookDelivery[]> => {
        outbox.claims++;
        return [];
      },
      markDelivered: async () => {},
      markFailed: async () => {},
      list: async () => [],
      hasPending: async () => outbox.pending > 0,
    };
    return outbox satisfies WebhookOutbox;
  }
  const webhookOptions = { tenantUrls: {}, maxAttempts: 3, retryBaseMs: 1000, pollMs: 1000, timeoutMs: 1000, logger };

  it("without a receiver and with nothing left to deliver, the outbox is not polled", async () => {
    const outbox = outboxWith(0);
    const webhooks = new WebhookService(outbox, new DomainEvents(() => {}), webhookOptions);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(outbox.claims).toBe(1);
    expect(webhooks.polling).toBe(false);
    await webhooks.close();
  });

  it("without a receiver, deliveries left by an earlier configuration are polled for until none is pending", async () => {
    const outbox = outboxWith(1);
    const webhooks = new WebhookService(outbox, new DomainEvents(() => {}), webhookOptions);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(outbox.claims).toBe(4);
    expect(webhooks.polling).toBe(true);
    outbox.pending = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(webhooks.polling).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(outbox.claims).toBe(5);
    await webhooks.close();
  });

  it("with a receiver, the outbox is polled every interval even when it is empty", async () => {
    const outbox = outboxWith(0);
    const webhooks = new WebhookService(outbox, new DomainEvents(() => {}), { ...webhookOptions, url: "http://127.0.0.1:9/hooks" });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(outbox.claims).toBe(5);
    expect(webhooks.polling).toBe(true);
    await webhooks.close();
    expect(webhooks.polling).toBe(false);
  });
});

import { randomUUID } from "node:crypto";
import { severityRank } from "../moderation/severity.js";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { CrisisAlert, CrisisAlertStore } from "../../ports/crisis-alert-store.js";
import type { ScreenInput, ScreenResult, Screener } from "../../ports/screener.js";
import type { DomainEvents } from "../domain-events.js";
import { AppError } from "../errors.js";

export interface CrisisServiceOptions {
  /** An unacknowledged critical alert is re-escalated to `role:admin` after this long. */
  slaMs: number;
  /** How often each node looks for alerts due for escalation. */
  sweepIntervalMs: number;
  logger: Logger;
  domainEvents?: DomainEvents;
}

const STAFF_ROLES = ["support", "admin"];

/**
 * Crisis screening outcomes: every flagged chat message or low mood raises a
 * stored alert, sent live as `crisis:alert` to `role:support` of the tenant (and
 * as the `crisis.alert` webhook); support staff acknowledge and resolve it; an
 * unacknowledged critical alert is escalated to `role:admin` once its SLA runs
 * out. Screening never blocks or drops a message: a failing screener is logged
 * and the message goes on.
 */
export class CrisisService {
  private readonly sweeper: NodeJS.Timeout;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly screener: Screener,
    private readonly store: CrisisAlertStore,
    private readonly broker: Broker,
    private readonly options: CrisisServiceOptions,
  ) {
    this.sweeper = setInterval(() => void this.escalateDue(), options.sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Screens text before it is stored; never rejects. */
  async screen(input: ScreenInput): Promise<ScreenResult | undefined> {
    try {
      const result = await this.screener.screen(input);
      return result.flagged ? result : undefined;
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message, kind: input.kind }, "screening failed; message delivered unscreened");
      return undefined;
    }
  }

  /**
   * Screens a message's new body (`message:edit`): a message edited into crisis
   * text raises an alert as if it had been sent so. An edit of a message whose
   * open alert is already as severe raises none (fixing a typo of a flagged
   * message is not a second crisis).
   */
  async screenEdit(caller: Caller, message: { id: string; conversationId: string; body: string }): Promise<void> {
    const flagged = await this.screen({ tenantId: caller.tenantId, userId: caller.userId, text: message.body, kind: "message" });
    if (!flagged) return;
    const severity = flagged.severity ?? "low";
    const open = await this.store.openForMessage(caller.tenantId, message.id);
    if (open.some((alert) => severityRank(alert.severity) >= severityRank(severity))) return;
    await this.raise(caller, flagged, { kind: "message", conversationId: message.conversationId, messageId: message.id });
  }

  /** Stores and announces an alert for a screened item that was flagged. */
  async raise(caller: Caller, result: ScreenResult, where: { kind: "message" | "mood"; conversationId?: string; messageId?: string }): Promise<CrisisAlert> {
    const severity = result.severity ?? "low";
    const now = new Date();
    const alert = await this.store.create({
      alertId: randomUUID(),
      tenantId: caller.tenantId,
      userId: caller.userId,
      conversationId: where.conversationId ?? null,
      messageId: where.messageId ?? null,
      kind: where.kind,
      severity,
      category: result.category ?? null,
      excerpt: result.matches[0]?.excerpt ?? "",
      rulesVersion: result.rulesVersion,
      now,
      escalateAt: severity === "critical" ? new Date(now.getTime() + this.options.slaMs) : null,
    });
    await this.broker.publish({ tenantId: caller.tenantId, channels: ["role:support"], event: "crisis:alert", data: wire(alert) });
    await this.options.domainEvents?.emit({ type: "crisis.alert", tenantId: caller.tenantId, alert: wire(alert) });
    if (severity === "critical") {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.escalateDue();
      }, this.options.slaMs + 10);
      timer.unref();
      this.timers.add(timer);
    }
    return alert;
  }

  async acknowledge(caller: Caller, alertId: string): Promise<{ alert: ReturnType<typeof wire> }> {
    requireStaff(caller);
    const alert = await this.store.acknowledge(caller.tenantId, alertId, caller.userId, new Date());
    if (!alert) throw await this.refusal(caller, alertId, "acknowledged");
    await this.broker.publish({ tenantId: caller.tenantId, channels: ["role:support", "role:admin"], event: "crisis:updated", data: wire(alert) });
    return { alert: wire(alert) };
  }

  async resolve(caller: Caller, alertId: string, resolution?: string): Promise<{ alert: ReturnType<typeof wire> }> {
    requireStaff(caller);
    const alert = await this.store.resolve(caller.tenantId, alertId, caller.userId, resolution ?? null, new Date());
    if (!alert) throw await this.refusal(caller, alertId, "resolved");
    await this.broker.publish({ tenantId: caller.tenantId, channels: ["role:support", "role:admin"], event: "crisis:updated", data: wire(alert) });
    return { alert: wire(alert) };
  }

  async list(caller: Caller, query: { status?: CrisisAlert["status"]; limit?: number }): Promise<{ alerts: ReturnType<typeof wire>[] }> {
    requireStaff(caller);
    return { alerts: (await this.store.list(caller.tenantId, { status: query.status, limit: query.limit ?? 50 })).map(wire) };
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Escalates due alerts; the store hands each one to exactly one node. */
  private async escalateDue(): Promise<void> {
    try {
      for (const alert of await this.store.claimEscalations(new Date(), 50)) {
        await this.broker.publish({ tenantId: alert.tenantId, channels: ["role:admin"], event: "crisis:alert", data: { ...wire(alert), escalated: true } });
      }
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, "crisis escalation sweep failed");
    }
  }

  private async refusal(caller: Caller, alertId: string, state: string): Promise<AppError> {
    const current = await this.store.get(caller.tenantId, alertId);
    return current ? new AppError("conflict", `the alert is already ${current.status === "resolved" ? "resolved" : state}`) : new AppError("not_found", "no such alert");
  }
}

function requireStaff(caller: Caller): void {
  if (!caller.roles.some((role) => STAFF_ROLES.includes(role))) throw new AppError("forbidden", "crisis alerts are for support and admin staff");
}

/** An alert as `crisis:alert` carries it (PROTOCOL-style fields first). */
export function wire(alert: CrisisAlert) {
  return {
    alertId: alert.alertId,
    tenantId: alert.tenantId,
    userId: alert.userId,
    conversationId: alert.conversationId,
    messageId: alert.messageId,
    severity: alert.severity,
    category: alert.category,
    excerpt: alert.excerpt,
    kind: alert.kind,
    status: alert.status,
    createdAt: alert.createdAt,
    acknowledgedBy: alert.acknowledgedBy,
    acknowledgedAt: alert.acknowledgedAt,
    resolvedBy: alert.resolvedBy,
    resolvedAt: alert.resolvedAt,
    resolution: alert.resolution,
    escalatedAt: alert.escalatedAt,
  };
}

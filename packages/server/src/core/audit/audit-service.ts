import type { Ack } from "@switchboard/protocol";
import type { Logger } from "pino";
import type { AuditEntry, AuditLogStore, AuditQuery, AuditRecord } from "../../ports/audit-log.js";
import type { Caller } from "../../auth/caller.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import { AppError } from "../errors.js";

/** Requests always audited, whatever their result. Refusals of any other request are audited too. */
const AUDITED_REQUESTS = new Set([
  "room:join",
  "room:leave",
  "message:history",
  "message:edit",
  "message:delete",
  "conversation:addParticipants",
  "conversation:removeParticipants",
  "crisis:acknowledge",
  "crisis:resolve",
  "crisis:list",
]);

const DENIALS = new Set(["forbidden", "unauthorized", "rate_limited"]);

export interface AuditServiceOptions {
  nodeId: string;
  /** Entries older than this are purged; 0 keeps them forever. */
  retentionDays: number;
  /** Batching window: entries are written together at most this long after they happen. */
  flushMs: number;
  logger: Logger;
}

/**
 * The audit trail (connect/disconnect, room joins, history reads, edits and
 * deletes, notification creation, API key use, crisis actions, denied
 * attempts). Entries are batched and written in one INSERT per window to keep
 * auditing off the hot path; a graceful stop flushes them, a crash can lose at
 * most one window (`flushMs`).
 */
export class AuditService implements ConnectionListener {
  private buffer: AuditEntry[] = [];
  /** Identical successful entries of this window, written once with their count (see {@link recordRepeated}). */
  private repeats = new Map<string, { entry: AuditEntry; count: number }>();
  private flushing: Promise<void> = Promise.resolve();
  /**
   * The batching window's flush, armed by the first entry of a window rather
   * than ticking: an idle server is not woken twice a second for an empty
   * buffer.
   */
  private timer: NodeJS.Timeout | undefined;
  private readonly retention: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: AuditLogStore,
    private readonly options: AuditServiceOptions,
  ) {
    this.retention = setInterval(() => void this.purge(), 3_600_000);
    this.retention.unref();
  }

  record(entry: Omit<AuditEntry, "at">): void {
    this.buffer.push({ ...entry, at: new Date() });
    if (this.buffer.length >= 500) void this.flush();
    else this.armFlush();
  }

  /** Makes sure a flush is due within one window (see {@link timer}). */
  private armFlush(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushMs);
    this.timer.unref();
  }

  /**
   * For actions a caller repeats at machine pace (an app backend publishing
   * through its API key hundreds of times a second): identical entries of one
   * batching window become one row, stamped with the first occurrence and
   * `detail: "count=N"` when N > 1. Who did what, and when to within the window,
   * stays on record without one INSERT row per request; refusals are never
   * coalesced (use {@link record}).
   */
  recordRepeated(entry: Omit<AuditEntry, "at" | "detail">): void {
    const key = `${entry.tenantId}\u0000${entry.actor}\u0000${entry.actorKind}\u0000${entry.action}\u0000${entry.target ?? ""}\u0000${entry.result}`;
    const seen = this.repeats.get(key);
    if (seen) seen.count++;
    else {
      this.repeats.set(key, { entry: { ...entry, at: new Date() }, count: 1 });
      this.armFlush();
    }
  }

  async connected({ caller, id }: Connection): Promise<void> {
    this.record({ tenantId: caller.tenantId, actor: caller.userId, actorKind: "user", action: "connect", target: id, result: "ok" });
  }

  async disconnected({ caller, id }: Connection): Promise<void> {
    this.record({ tenantId: caller.tenantId, actor: caller.userId, actorKind: "user", action: "disconnect", target: id, result: "ok" });
  }

  /** After every client request: audited families always, refusals of anything. */
  request(connection: Connection, event: string, payload: unknown, ack: Ack): void {
    const denied = !ack.ok && DENIALS.has(ack.error.code);
    if (!AUDITED_REQUESTS.has(event) && !denied) return;
    const { caller } = connection;
    this.record({
      tenantId: caller.tenantId,
      actor: caller.userId,
      actorKind: "user",
      action: event.length > 64 ? "unknown" : event,
      target: targetOf(payload),
      result: ack.ok ? "ok" : denied ? "denied" : "error",
      detail: ack.ok ? undefined : ack.error.code,
    });
  }

  /**
   * After every user-token HTTP request, by the same rule as {@link request}:
   * audited families always, refusals of anything. `action` is the socket
   * request the route stands for (`message:history` for the REST history
   * read), so both ways in read alike in the log; `code` is the error code of a
   * failed request. A request refused before its token was read (401) has no
   * caller: it is recorded under tenant and actor `-`, as a refused handshake is.
   */
  httpRequest(caller: Caller | undefined, action: string, target: string | undefined, code: string | undefined): void {
    const denied = code !== undefined && DENIALS.has(code);
    if (!AUDITED_REQUESTS.has(action) && !denied) return;
    this.record({
      tenantId: caller?.tenantId ?? "-",
      actor: caller?.userId ?? "-",
      actorKind: "user",
      action,
      target: target?.slice(0, 200),
      result: code === undefined ? "ok" : denied ? "denied" : "error",
      detail: code,
    });
  }

  /** `GET /v1/audit`: admins of the tenant only. */
  async query(caller: Caller, query: AuditQuery): Promise<AuditRecord[]> {
    if (!caller.roles.includes("admin")) throw new AppError("forbidden", "the audit log is for admins");
    await this.flush();
    return this.store.query(caller.tenantId, query);
  }

  /** Writes what is buffered; serialised so batches keep their order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      for (const { entry, count } of this.repeats.values()) this.buffer.push(count > 1 ? { ...entry, detail: `count=${count}` } : entry);
      this.repeats.clear();
      if (this.buffer.length === 0) return;
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.store.append(batch, this.options.nodeId);
      } catch (err) {
        // Kept for the next window rather than dropped: a brief database outage loses nothing.
        this.buffer = [...batch, ...this.buffer].slice(-50_000);
        this.options.logger.warn({ err: (err as Error).message, entries: batch.length }, "audit flush failed; retrying");
        this.armFlush();
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.retention);
    await this.flush();
  }

  private async purge(): Promise<void> {
    if (this.options.retentionDays <= 0) return;
    try {
      await this.store.purgeBefore(new Date(Date.now() - this.options.retentionDays * 86_400_000));
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, "audit retention sweep failed");
    }
  }
}

/** The id a request acts on: a room, conversation, message or alert (never a body). */
function targetOf(payload: unknown): string | undefined {
  if (!payload || typeof payload !== "object") return undefined;
  const p = payload as Record<string, unknown>;
  const target = p.room ?? p.conversationId ?? p.messageId ?? p.alertId ?? p.callId;
  return typeof target === "string" ? target.slice(0, 200) : undefined;
}

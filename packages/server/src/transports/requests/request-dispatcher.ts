import type { Ack } from "@switchboard/protocol";
import type { Logger } from "pino";
import type { Connection } from "../../core/connection.js";
import { AppError, refusedPayload, toAppError } from "../../core/errors.js";
import type { RequestGuard } from "../../core/limits/request-guard.js";
import type { Metrics } from "../../metrics.js";
import type { RequestHandlers } from "./request-handler.js";

/**
 * Runs a request by name for any transport and always produces the ack
 * envelope of PROTOCOL.md section 2: unknown names and payloads failing their
 * schema become `bad_request`, unexpected failures `internal` (logged, never
 * leaked to the client).
 */
export class RequestDispatcher {
  constructor(
    private readonly handlers: RequestHandlers,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly hooks: {
      /** Rate limits and abuse detection, before anything else. */
      guard?: RequestGuard;
      /** Told of every request: client activity (idle logoff, idle -> away). */
      onActivity?: (connection: Connection) => void;
      /** Told of every answer (the audit trail). */
      onResult?: (connection: Connection, event: string, payload: unknown, ack: Ack) => void;
    } = {},
  ) {}

  has(event: string): boolean {
    return Object.hasOwn(this.handlers, event);
  }

  async dispatch(connection: Connection, event: string, payload: unknown): Promise<Ack> {
    // Socket.IO's parser lets numbers through as event names, and an attachment-only or empty
    // binary event reaches onAny with no name or the ack as the name; make it text
    // so a hostile name is an unknown event, never a TypeError answered as `internal`.
    const name = typeof event === "string" ? event : typeof event === "number" ? String(event) : `(${typeof event})`;
    const ack = await this.run(connection, name, payload);
    this.hooks.onResult?.(connection, name, payload, ack);
    return ack;
  }

  private async run(connection: Connection, event: string, payload: unknown): Promise<Ack> {
    const known = this.has(event);
    const label = known ? event : "unknown";
    this.metrics.eventsIn.inc({ event: label });
    const stopTimer = this.metrics.requestDuration.startTimer({ event: label });
    try {
      this.hooks.onActivity?.(connection);
      await this.hooks.guard?.check(connection, event);
      if (!known) throw new AppError("bad_request", `unknown event ${truncate(event)}`);
      const handler = this.handlers[event]!;
      // A request sent with only an ack callback carries no payload: treat it as {}.
      const parsed = handler.schema.safeParse(payload === undefined ? {} : payload);
      if (!parsed.success) throw refusedPayload(parsed.error, `invalid ${event} payload`);
      const data = await handler.handle(connection, parsed.data);
      return data === undefined ? { ok: true } : { ok: true, data };
    } catch (err) {
      const appError = toAppError(err);
      if (appError.code === "internal") {
        this.logger.error({ err, event: label, userId: connection.caller.userId }, "request failed");
      }
      this.metrics.ackErrors.inc({ code: appError.code });
      return { ok: false, error: appError.toBody() };
    } finally {
      stopTimer();
    }
  }
}

function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

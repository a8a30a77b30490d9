import type { Caller } from "../../auth/caller.js";
import type { RateLimiter } from "../../ports/rate-limiter.js";
import type { Connection } from "../connection.js";
import { AppError } from "../errors.js";
import { familyOf } from "./request-families.js";

export interface RequestGuardOptions {
  /** Refusals within `abuseWindowMs` after which the connection is closed. */
  abuseThreshold: number;
  abuseWindowMs: number;
}

/**
 * Runs before every request on every protocol: rate limits per user and
 * family (answered `rate_limited` with `details.retryAfterMs`), and closes a
 * connection that keeps hammering past its limits instead of letting it burn
 * CPU on refusals.
 */
export class RequestGuard {
  private readonly refusals = new Map<string, number[]>();

  constructor(
    private readonly limiter: RateLimiter,
    private readonly options: RequestGuardOptions,
  ) {}

  /** @throws AppError `rate_limited` */
  async check(connection: Connection, event: string): Promise<void> {
    const retryAfterMs = await this.consume(connection.caller, event);
    if (retryAfterMs === undefined) return;
    if (this.recordRefusal(connection.id)) connection.close("rate limits exceeded repeatedly");
    throw refusal(retryAfterMs);
  }

  /**
   * The same limits for a request that has no connection (the REST routes
   * called with a user token): the budget is the user's, shared with their
   * connections, so REST is no way around it.
   * @throws AppError `rate_limited`
   */
  async checkCaller(caller: Caller, event: string): Promise<void> {
    const retryAfterMs = await this.consume(caller, event);
    if (retryAfterMs !== undefined) throw refusal(retryAfterMs);
  }

  /** Takes a point of the event's family from the user's budget: undefined if allowed, else when to retry. */
  private async consume(caller: Caller, event: string): Promise<number | undefined> {
    const decision = await this.limiter.consume(familyOf(event), `${caller.tenantId}/${caller.userId}`);
    return decision.allowed ? undefined : decision.retryAfterMs;
  }

  /** Forgets a closed connection. */
  forget(connectionId: string): void {
    this.refusals.delete(connectionId);
  }

  /** True when this refusal crosses the abuse threshold. */
  private recordRefusal(connectionId: string): boolean {
    const now = Date.now();
    const recent = (this.refusals.get(connectionId) ?? []).filter((t) => now - t < this.options.abuseWindowMs);
    recent.push(now);
    this.refusals.set(connectionId, recent);
    return recent.length >= this.options.abuseThreshold;
  }
}

function refusal(retryAfterMs: number): AppError {
  return new AppError("rate_limited", "too many requests; slow down", { retryAfterMs });
}

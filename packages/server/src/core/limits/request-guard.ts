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
    const key = `${connection.caller.tenantId}/${connection.caller.userId}`;
    const decision = await this.limiter.consume(familyOf(event), key);
    if (decision.allowed) return;
    if (this.recordRefusal(connection.id)) connection.close("rate limits exceeded repeatedly");
    throw new AppError("rate_limited", "too many requests; slow down", { retryAfterMs: decision.retryAfterMs });
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

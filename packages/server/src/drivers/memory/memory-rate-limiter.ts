import { RateLimiterMemory } from "rate-limiter-flexible";
import type { RateLimitDecision, RateLimitRule, RateLimiter } from "../../ports/rate-limiter.js";
import { consumePoint } from "../rate-limit-decision.js";

/** Per-node rate limits on rate-limiter-flexible's in-memory fixed windows. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  constructor(rules: Record<string, RateLimitRule>) {
    for (const [family, rule] of Object.entries(rules)) {
      this.limiters.set(family, new RateLimiterMemory({ keyPrefix: family, points: rule.points, duration: rule.durationMs / 1000 }));
    }
  }

  consume(family: string, key: string): Promise<RateLimitDecision> {
    return consumePoint(this.limiters.get(family), key);
  }
}

import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimitDecision, RateLimitRule, RateLimiter } from "../../ports/rate-limiter.js";

/** Per-node rate limits on rate-limiter-flexible's in-memory fixed windows. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  constructor(rules: Record<string, RateLimitRule>) {
    for (const [family, rule] of Object.entries(rules)) {
      this.limiters.set(family, new RateLimiterMemory({ keyPrefix: family, points: rule.points, duration: rule.durationMs / 1000 }));
    }
  }

  async consume(family: string, key: string): Promise<RateLimitDecision> {
    const limiter = this.limiters.get(family);
    if (!limiter) return { allowed: true };
    try {
      await limiter.consume(key);
      return { allowed: true };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(res.msBeforeNext)) };
      throw res;
    }
  }
}

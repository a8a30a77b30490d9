import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import type { RateLimitDecision, RateLimitRule, RateLimiter } from "../../ports/rate-limiter.js";
import { consumePoint } from "../rate-limit-decision.js";

/**
 * Rate limits shared by every node (rate-limiter-flexible on Redis). While
 * Redis is unreachable each node falls back to an in-memory limiter with the
 * same rule, so limits loosen (per node) rather than fail open or block.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(redis: Redis, prefix: string, rules: Record<string, RateLimitRule>) {
    for (const [family, rule] of Object.entries(rules)) {
      const duration = rule.durationMs / 1000;
      this.limiters.set(
        family,
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${family}`,
          points: rule.points,
          duration,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix: family, points: rule.points, duration }),
        }),
      );
    }
  }

  consume(family: string, key: string): Promise<RateLimitDecision> {
    return consumePoint(this.limiters.get(family), key);
  }
}

import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitDecision } from "../ports/rate-limiter.js";

/** One point from a rate-limiter-flexible limiter, as a {@link RateLimitDecision} (any driver). */
export async function consumePoint(limiter: RateLimiterAbstract | undefined, key: string): Promise<RateLimitDecision> {
  if (!limiter) return { allowed: true };
  try {
    await limiter.consume(key);
    return { allowed: true };
  } catch (res) {
    if (res instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(res.msBeforeNext)) };
    throw res;
  }
}

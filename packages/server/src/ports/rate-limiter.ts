/** `points` actions per `durationMs` window. */
export interface RateLimitRule {
  points: number;
  durationMs: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Counts actions per key within a family's window.
 *
 * Contract: a family's limit holds across everything sharing the limiter (one
 * node with the memory driver, every node with a shared one); `retryAfterMs`
 * is when the key may act again. Unknown families are allowed.
 */
export interface RateLimiter {
  consume(family: string, key: string): Promise<RateLimitDecision>;
}

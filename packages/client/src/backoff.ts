export interface BackoffOptions {
  /** First delay (ms). Default 500. */
  initialDelayMs?: number;
  /** Ceiling (ms). Default 15000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread, 0..1: a delay d becomes d * (1 - jitter .. 1). Default 0.5. */
  jitter?: number;
}

/**
 * Jittered exponential backoff: attempt n waits min(max, initial * factor^n),
 * shortened by a random fraction so that many clients cut off by the same
 * outage do not all come back in the same instant.
 */
export class Backoff {
  private attempts = 0;
  private readonly initial: number;
  private readonly max: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initial = options.initialDelayMs ?? 500;
    this.max = options.maxDelayMs ?? 15_000;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(Math.max(options.jitter ?? 0.5, 0), 1);
  }

  /** The delay before the next attempt; each call counts one attempt. */
  next(): number {
    const base = Math.min(this.max, this.initial * this.factor ** this.attempts);
    this.attempts++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** Jitter applied to a delay chosen elsewhere (e.g. the server's `reconnectInMs`). */
  spread(ms: number): number {
    return Math.round(ms + ms * this.jitter * this.random());
  }

  reset(): void {
    this.attempts = 0;
  }

  get attempt(): number {
    return this.attempts;
  }
}

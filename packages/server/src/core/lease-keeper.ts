import type { Logger } from "pino";
import { DependencyUnavailableError } from "../ports/errors.js";

export interface LeaseKeeperOptions {
  /** Lease of this node's entries; kept renewed every third of it. */
  leaseMs: number;
  /** Renews this node's entries. */
  renew: () => Promise<void>;
  /** Takes over the entries of nodes that stopped renewing and announces their departures. */
  sweep: () => Promise<void>;
  /** For logs: what is being kept (`channel members`, `pusher occupancy`). */
  what: string;
  logger: Logger;
}

/**
 * Keeps a node's leased entries in a shared store alive and sweeps those of
 * crashed nodes: every third of the lease it renews, then sweeps (renewing
 * first means a node whose event loop stalled never takes its own live
 * entries as expired). Runs never overlap; failures are logged and retried on
 * the next tick. A crashed node's entries are gone within lease + lease/3.
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaseKeeperOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = (async () => {
      try {
        await this.options.renew();
        await this.options.sweep();
      } catch (err) {
        if (err instanceof DependencyUnavailableError) this.options.logger.warn({ what: this.options.what }, "lease maintenance skipped: redis unavailable");
        else this.options.logger.error({ err, what: this.options.what }, "lease maintenance failed");
      }
    })();
    await this.running;
    this.running = undefined;
  }
}

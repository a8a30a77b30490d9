import type { Connection } from "../core/connection.js";
import type { ConnectionListener } from "../core/connection-listener.js";
import type { Logger } from "pino";

/**
 * The departures a transport has still to finish: each closed connection's
 * cleanup (every listener's `disconnected`: channels, typing, calls,
 * presence) runs here, and a graceful stop waits for {@link settled} before
 * presence and the database close, so no departure is lost or runs against a
 * closed pool.
 */
export class ConnectionCleanups {
  private readonly running = new Set<Promise<void>>();

  /** Tracks one cleanup until it settles. */
  track(cleanup: Promise<void>): void {
    this.running.add(cleanup);
    void cleanup.finally(() => this.running.delete(cleanup));
  }

  /**
   * Tells every listener that `connection` left, once its setup (`ready`) is
   * over, one after the other; a listener that fails is logged and the rest
   * still run.
   */
  departed(connection: Connection, ready: Promise<unknown>, listeners: readonly ConnectionListener[], logger: Logger): void {
    this.track(
      (async () => {
        await ready.catch(() => {});
        for (const listener of listeners) {
          await listener.disconnected?.(connection).catch((err: unknown) => logger.error({ err }, "connection cleanup failed"));
        }
      })(),
    );
  }

  /** Resolves once every cleanup tracked so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }
}

import type { Connection } from "../connection.js";

/** Hears a connection turning idle (`true`) or active again (`false`); only transitions. */
export type IdleListener = (connection: Connection, idle: boolean) => void;

interface Tracked {
  connection: Connection;
  lastActivity: number;
  idle: boolean;
}

/**
 * Client activity of this node's connections. A request only stamps a number
 * here (no store or database write per request); a periodic sweep flags the
 * connections quiet for `idleMs`, and the listener hears only the transitions.
 * With `idleMs` 0 nothing ever turns idle.
 */
export class ActivityMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onChange: IdleListener,
  ) {}

  /** Sweeps four times per idle period, so `away` comes at most a quarter late (capped at 5 s). */
  start(): void {
    if (this.idleMs <= 0 || this.timer) return;
    const every = Math.min(5000, Math.max(20, Math.floor(this.idleMs / 4)));
    this.timer = setInterval(() => this.sweep(Date.now()), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new connection counts as activity. */
  track(connection: Connection): void {
    this.tracked.set(connection.id, { connection, lastActivity: Date.now(), idle: false });
  }

  /** Resolves true when the connection was tracked. */
  forget(connectionId: string): boolean {
    return this.tracked.delete(connectionId);
  }

  touch(connection: Connection): void {
    const entry = this.tracked.get(connection.id);
    if (!entry) return;
    entry.lastActivity = Date.now();
    if (!entry.idle) return;
    entry.idle = false;
    this.onChange(entry.connection, false);
  }

  private sweep(now: number): void {
    for (const entry of this.tracked.values()) {
      if (entry.idle || now - entry.lastActivity < this.idleMs) continue;
      entry.idle = true;
      this.onChange(entry.connection, true);
    }
  }
}

import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import type { ConnectionRegistry } from "../connection-registry.js";
import type { RequestGuard } from "./request-guard.js";

export interface ConnectionPoliciesOptions {
  maxConnectionsPerUser: number;
  /** A client with more than this queued and unwritten is disconnected. */
  maxBufferedBytes: number;
  /** Automatic logoff after this long without a request; 0 = never. */
  idleTimeoutMs: number;
  /** How often each connection's buffer and idleness are checked. */
  checkIntervalMs: number;
  logger: Logger;
}

/** setTimeout's ceiling (about 24.8 days); later expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A round of checks is spread over this many ticks of the check interval. In
 * one pass, 19,800 connections stalled the event loop 10-18 ms once a second
 * (every client's latency, once a second); a twentieth takes about 1 ms
 * (BENCHMARKS.md, session 20).
 */
const SLICES = 20;

interface Tracked {
  connection: Connection;
  lastActivity: number;
  expiry?: NodeJS.Timeout;
}

/**
 * Rules every live connection obeys, whatever its protocol: the token's `exp`
 * is enforced on open connections (`token_expired` event, then closed), idle
 * sessions are logged off, slow consumers whose unwritten buffer passes a bound
 * are disconnected instead of growing memory, and a user may hold only so many
 * connections.
 */
export class ConnectionPolicies implements ConnectionListener {
  private readonly tracked = new Map<string, Tracked>();
  private readonly sweeper: NodeJS.Timeout;
  /** The round of checks under way: where it is (a Map's iterator survives inserts and deletes) and its slice. */
  private round?: { entries: Iterator<Tracked>; slice: number };

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly guard: RequestGuard,
    private readonly options: ConnectionPoliciesOptions,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1, Math.floor(options.checkIntervalMs / SLICES)));
    this.sweeper.unref();
  }

  /** Whether a new connection of this caller is admitted (checked at the handshake). */
  admits(caller: Caller): boolean {
    return this.registry.connectionCount(caller.tenantId, caller.userId) < this.options.maxConnectionsPerUser;
  }

  async connected(connection: Connection): Promise<void> {
    const entry: Tracked = { connection, lastActivity: Date.now() };
    this.tracked.set(connection.id, entry);
    this.armExpiry(entry);
  }

  async disconnected(connection: Connection): Promise<void> {
    const entry = this.tracked.get(connection.id);
    if (entry?.expiry) clearTimeout(entry.expiry);
    this.tracked.delete(connection.id);
    this.guard.forget(connection.id);
  }

  /** A request arrived: the session is not idle. */
  touch(connection: Connection): void {
    const entry = this.tracked.get(connection.id);
    if (entry) entry.lastActivity = Date.now();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.round = undefined;
    for (const entry of this.tracked.values()) if (entry.expiry) clearTimeout(entry.expiry);
    this.tracked.clear();
  }

  private armExpiry(entry: Tracked): void {
    const { exp } = entry.connection.caller;
    if (exp === undefined) return;
    const ms = exp * 1000 - Date.now();
    entry.expiry = setTimeout(() => {
      if (exp * 1000 > Date.now()) return this.armExpiry(entry);
      entry.connection.notify("token_expired", { code: "token_expired", exp });
      entry.connection.close("token expired");
    }, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    entry.expiry.unref();
  }

  /**
   * Checks the next slice of the connections, so each is checked about once per
   * check interval. A slice is a twentieth of the larger of the count when the
   * round began (connections closed mid-round, as the sweep itself closes them,
   * must not slow the rest of the round) and the count now (nor must a ramp
   * that began on an empty server).
   */
  private sweep(): void {
    const now = Date.now();
    if (!this.round) this.round = { entries: this.tracked.values(), slice: Math.ceil(this.tracked.size / SLICES) };
    for (let budget = Math.max(this.round.slice, Math.ceil(this.tracked.size / SLICES)); budget > 0; budget--) {
      const next = this.round.entries.next();
      if (next.done) {
        this.round = undefined;
        return;
      }
      this.check(next.value, now);
    }
  }

  private check({ connection, lastActivity }: Tracked, now: number): void {
    const buffered = connection.bufferedBytes();
    if (buffered > this.options.maxBufferedBytes) {
      this.options.logger.warn({ userId: connection.caller.userId, buffered }, "slow consumer disconnected");
      connection.close("slow consumer");
    } else if (this.options.idleTimeoutMs > 0 && now - lastActivity > this.options.idleTimeoutMs) {
      connection.notify("session:idle", { idleMs: now - lastActivity });
      connection.close("idle session");
    }
  }
}

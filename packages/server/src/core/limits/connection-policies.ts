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
 * A round of checks is spread over as many slices of the check interval as it
 * takes to check at most this many connections at a time. In one pass, 19,800
 * connections stalled the event loop 10-18 ms once a second (every client's
 * latency, once a second); 990 at a time took about 1 ms (BENCHMARKS.md,
 * session 20).
 *
 * Not a fixed twentieth: every slice is a timer wake-up. Twenty a second,
 * with the other timers, woke an idle server 35 times a second. On the 2-core
 * benchmark machine, whose load clients share the cores, the clients then
 * preempted its broadcast loops about twice as often as plain Socket.IO's, and
 * plain Socket.IO given two empty timers (50 and 100 ms) was preempted as
 * often (BENCHMARKS.md, session 21). A server with a thousand connections or
 * fewer checks them all in one slice a second.
 */
const SLICE_CONNECTIONS = 1000;
/** A round is spread over at most this many slices. */
const MAX_SLICES = 20;

/**
 * A round of checks: where it is (a Map's iterator survives inserts and
 * deletes), how many slices it is spread over and how many connections a slice
 * checks. The entry to check next is fetched ahead, so that the slice that
 * checks the last one also ends the round, and the next slice begins the next
 * round rather than finding this one over.
 */
interface Round {
  entries: Iterator<Tracked>;
  next: IteratorResult<Tracked>;
  slices: number;
  slice: number;
}

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
  /** The next slice's timer; none while there is no connection to check (an idle server is not woken for nothing). */
  private sweeper: NodeJS.Timeout | undefined;
  /** The round of checks under way (see {@link Round}). */
  private round?: Round;
  private closed = false;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly guard: RequestGuard,
    private readonly options: ConnectionPoliciesOptions,
  ) {}

  /** Whether a new connection of this caller is admitted (checked at the handshake). */
  admits(caller: Caller): boolean {
    return this.registry.connectionCount(caller.tenantId, caller.userId) < this.options.maxConnectionsPerUser;
  }

  async connected(connection: Connection): Promise<void> {
    const entry: Tracked = { connection, lastActivity: Date.now() };
    this.tracked.set(connection.id, entry);
    this.armExpiry(entry);
    if (!this.sweeper && !this.closed) this.sweeper = this.nextSlice(this.options.checkIntervalMs);
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
    this.closed = true;
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
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
   * check interval. A slice is the round's share of the larger of the count when
   * the round began (connections closed mid-round, as the sweep itself closes
   * them, must not slow the rest of the round) and the count now (nor must a
   * ramp that began on an empty server).
   */
  private readonly sweep = (): void => {
    const now = Date.now();
    const round = (this.round ??= this.startRound());
    for (let budget = Math.max(round.slice, Math.ceil(this.tracked.size / round.slices)); budget > 0 && !round.next.done; budget--) {
      const entry = round.next.value;
      // Fetched a slice ago: the connection may have closed since.
      if (this.tracked.get(entry.connection.id) === entry) this.check(entry, now);
      round.next = round.entries.next();
    }
    if (round.next.done) this.round = undefined;
    // The last connection gone and its round over: the next connection arms the checks again.
    this.sweeper = this.round || this.tracked.size > 0 ? this.nextSlice(this.options.checkIntervalMs / round.slices) : undefined;
  };

  private startRound(): Round {
    const slices = Math.min(MAX_SLICES, Math.max(1, Math.ceil(this.tracked.size / SLICE_CONNECTIONS)));
    const entries = this.tracked.values();
    return { entries, slices, slice: Math.ceil(this.tracked.size / slices), next: entries.next() };
  }

  private nextSlice(ms: number): NodeJS.Timeout {
    const timer = setTimeout(this.sweep, Math.max(1, Math.floor(ms)));
    timer.unref();
    return timer;
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

import type { ChosenStatus, CustomStatus, PresenceInfo, Viewer } from "@switchboard/protocol";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import { DependencyUnavailableError } from "../../ports/errors.js";
import type { PresenceRecord, PresenceRecordPatch, PresenceRecords } from "../../ports/presence-records.js";
import type { LiveUserState, PresenceConnection, PresenceStore } from "../../ports/presence-store.js";
import type { ChannelAuthorizer } from "../channels/channel-authorizer.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import type { DomainEvents } from "../domain-events.js";
import { ActivityMonitor } from "./activity-monitor.js";
import { expiredByUser } from "./expired-connections.js";
import { KeyedLock } from "./keyed-lock.js";
import { effectiveStatus, normalizeCustom, presenceInfo, samePresence } from "./presence-view.js";
import { ViewerTracker } from "./viewer-tracker.js";

export interface PresenceServiceDeps {
  store: PresenceStore;
  records: PresenceRecords;
  broker: Broker;
  authorizer: ChannelAuthorizer;
  logger: Logger;
  nodeId: string;
  /** No client activity on any device for this long turns a user `away`; 0 = never. */
  idleMs: number;
  /** A user whose last device left is announced offline only if no device returns within this. */
  offlineGraceMs: number;
  /** Lease of this node's store entries, renewed every third of it (default 30 s). */
  leaseMs?: number;
  /** Records one connection may view at once (`MAX_ROOMS_PER_CONNECTION`); unbounded when unset. */
  maxViewedPerConnection?: number;
  /**
   * Whether other nodes share the store (Redis). A stopping node then leaves the
   * departures still in their grace to them (see {@link PresenceService.close}).
   */
  sharedStore?: boolean;
  /** Told when a user comes online (from offline) or goes offline (webhooks `user.online` / `user.offline`). */
  domainEvents?: DomainEvents;
  /** Mood updates pass crisis screening (a low score with worrying text raises an alert). */
  onMood?: (caller: Caller, custom: CustomStatus) => Promise<void>;
}

/** `GET /v1/users/{id}/online` and the SDK's `isOnline`. */
export interface UserOnline {
  userId: string;
  /** False while offline or appearing offline. */
  online: boolean;
  status: PresenceInfo["status"];
  lastSeen: string | null;
}

/** Internal channel carrying one user's `presence:changed` to its subscribers. */
export function presenceChannel(userId: string): string {
  return `presence:${userId}`;
}

const DEFAULT_LEASE_MS = 30_000;

/** What the service knew about a user before a change. */
interface Snapshot {
  record: PresenceRecord | undefined;
  live: LiveUserState | undefined;
}

/**
 * One change to a user: `live` mutates the store (connections, idle, calls) and
 * runs even when the database cannot be read, so the live state never drifts
 * from the real connections; `record` may update the durable record.
 */
interface Change {
  live?: () => Promise<void>;
  record?: (before: Snapshot) => Promise<PresenceRecord | void>;
}

/** A user whose last device left, not yet announced offline (the grace runs). */
interface PendingOffline {
  tenantId: string;
  userId: string;
  connectionId: string;
  leftAt: string;
  timer: NodeJS.Timeout;
}

/**
 * Presence (PROTOCOL.md section 5): statuses, custom status, last seen, idle
 * `away`, subscriptions and record viewers. Every change to what others see of a
 * user runs under that user's lock as "read before, apply, read after" and is
 * published as `presence:changed` only when the two differ, so a second device,
 * a repeated status or a connection flapping within the grace is never news.
 * Lifecycle calls (`connect`, `disconnect`, `touch`) never throw: there is nobody
 * to answer, so failures are logged.
 */
export class PresenceService implements ConnectionListener {
  private readonly locks = new KeyedLock();
  private readonly activity: ActivityMonitor;
  private readonly viewerTracker: ViewerTracker;
  private readonly pendingOffline = new Map<string, PendingOffline>();
  private readonly leaseMs: number;
  private maintenance: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly deps: PresenceServiceDeps) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    // Channel names are already scoped to the caller's tenant, so "any user of the same tenant" is every caller.
    deps.authorizer.registerRule("presence", () => true, { privateMembership: true });
    deps.authorizer.registerRule("viewers", () => false, { privateMembership: true, managed: true });
    this.activity = new ActivityMonitor(deps.idleMs, (connection, idle) => this.onIdleChange(connection, idle));
    this.viewerTracker = new ViewerTracker({ ...deps, locks: this.locks, leaseMs: this.leaseMs });
  }

  /** Starts the idle sweep and lease maintenance. */
  start(): void {
    this.activity.start();
    if (this.maintenance) return;
    this.maintenance = setInterval(() => void this.guard("lease maintenance", () => this.maintain()), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.maintenance.unref();
  }

  /**
   * Stops timers and settles the departures still in their grace, then waits
   * for work in flight. Call after the transports have closed their connections.
   *
   * Alone (memory store), it announces them now and writes their lastSeen:
   * nobody else could. With a shared store, the devices of a draining node
   * reconnect to the other nodes within moments; announcing `offline` now made
   * every user of a node in a rolling deploy flap offline and online for their
   * watchers. So their entries stay, with this node's lease cut to the grace:
   * once it runs out, the other nodes' lease sweep takes them and announces
   * `offline` (with lastSeen) for those who did not come back, and nothing for
   * those who did.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.activity.stop();
    clearInterval(this.maintenance);
    const pending = [...this.pendingOffline.values()];
    for (const entry of pending) clearTimeout(entry.timer);
    if (this.deps.sharedStore && pending.length > 0) {
      this.pendingOffline.clear();
      await this.guard("hand departures over", () => this.deps.store.renew(this.deps.nodeId, Math.max(1, this.deps.offlineGraceMs)));
    } else {
      await Promise.all(pending.map((entry) => this.finishOffline(entry)));
    }
    await this.locks.settled();
  }

  connected(connection: Connection): Promise<void> {
    return this.connect(connection);
  }

  disconnected(connection: Connection): Promise<void> {
    return this.disconnect(connection);
  }

  /** A connection opened (after its channels are set up). */
  async connect(connection: Connection): Promise<void> {
    const { tenantId, userId } = connection.caller;
    this.activity.track(connection);
    const entry: PresenceConnection = { connectionId: connection.id, userId, nodeId: this.deps.nodeId, connectedAt: new Date().toISOString(), idle: false };
    await this.guard("connect", () =>
      this.change(tenantId, userId, {
        live: async () => {
          await this.deps.store.addConnection(tenantId, entry, this.leaseMs);
          // A device back within the grace replaces the one that left, and nobody is told anything.
          const pending = this.pendingOffline.get(userKey(tenantId, userId));
          if (!pending) return;
          clearTimeout(pending.timer);
          this.pendingOffline.delete(userKey(tenantId, userId));
          // A Socket.IO session recovered within the grace comes back under the id it left with: that entry is this one.
          if (pending.connectionId !== entry.connectionId) await this.deps.store.removeConnection(tenantId, userId, pending.connectionId, this.deps.nodeId);
        },
      }),
    );
  }

  /** A connection closed: it stops viewing at once; the user's offline waits for the grace. */
  async disconnect(connection: Connection): Promise<void> {
    const { tenantId, userId } = connection.caller;
    const registered = this.activity.forget(connection.id);
    await this.guard("viewer cleanup", () => this.viewerTracker.disconnect(connection));
    // Its setup failed before presence saw it: there is no departure to record or announce.
    if (!registered) return;
    const leftAt = new Date().toISOString();
    await this.guard("disconnect", () =>
      this.locks.run(userKey(tenantId, userId), async () => {
        const connections = (await this.deps.store.users(tenantId, [userId])).get(userId)?.connections ?? [];
        const isLast = connections.length === 1 && connections[0]!.connectionId === connection.id;
        if (isLast && this.deps.offlineGraceMs > 0 && !this.closing) {
          // Keep the entry through the grace, so the user stays as they were if a device comes back.
          this.scheduleOffline(tenantId, userId, connection.id, leftAt);
          return;
        }
        await this.changeLocked(tenantId, userId, this.leave(tenantId, userId, connection.id, leftAt));
      }),
    );
  }

  /** Any client request: cheap (a timestamp), except when it wakes an idle connection. */
  touch(connection: Connection): void {
    this.activity.touch(connection);
  }

  /** `presence:setStatus`: `online` returns to automatic; `custom` omitted keeps it, `null` clears it. */
  async setStatus(caller: Caller, status: ChosenStatus, custom?: CustomStatus | null): Promise<{ presence: PresenceInfo }> {
    const presence = await this.change(caller.tenantId, caller.userId, {
      record: (before) => {
        const patch: PresenceRecordPatch = { status };
        if (custom !== undefined) patch.custom = normalizeCustom(custom);
        // Appearing offline reads exactly like leaving: subscribers get the lastSeen a real departure gives.
        if (status === "offline" && effectiveStatus(before.record, before.live) !== "offline") patch.lastSeen = new Date().toISOString();
        return this.deps.records.update(caller.tenantId, caller.userId, patch);
      },
    });
    if (custom?.mood) await this.deps.onMood?.(caller, custom);
    return { presence };
  }

  /** Presence of users of one tenant, in the order asked (duplicates once). */
  async get(tenantId: string, userIds: readonly string[]): Promise<PresenceInfo[]> {
    const ids = [...new Set(userIds)];
    const [records, live] = await Promise.all([this.deps.records.get(tenantId, ids), this.deps.store.users(tenantId, ids)]);
    return ids.map((id) => presenceInfo(id, records.get(id), live.get(id)));
  }

  /** Whether a user counts as online (`away`, `busy`, `in_call` do; offline and appearing offline do not). */
  async online(tenantId: string, userId: string): Promise<UserOnline> {
    const [info] = await this.get(tenantId, [userId]);
    return { userId, online: info!.status !== "offline", status: info!.status, lastSeen: info!.lastSeen };
  }

  /**
   * Whether a user has a live connection on any node (whatever status they
   * show); the entry this node keeps through the offline grace is not one.
   */
  async hasConnections(tenantId: string, userId: string): Promise<boolean> {
    const leaving = this.pendingOffline.get(userKey(tenantId, userId))?.connectionId;
    const connections = (await this.deps.store.users(tenantId, [userId])).get(userId)?.connections ?? [];
    // A session recovered on another node keeps the leaving connection's id: that entry is live.
    return connections.some((c) => c.connectionId !== leaving || c.nodeId !== this.deps.nodeId);
  }

  /** Subscribes first, then reads, so no change falls between the answer and the first event. */
  async subscribe(connection: Connection, userIds: readonly string[]): Promise<{ presence: PresenceInfo[] }> {
    for (const userId of userIds) connection.subscribe(presenceChannel(userId));
    return { presence: await this.get(connection.caller.tenantId, userIds) };
  }

  async unsubscribe(connection: Connection, userIds: readonly string[]): Promise<{ presence: PresenceInfo[] }> {
    for (const userId of userIds) connection.unsubscribe(presenceChannel(userId));
    return { presence: await this.get(connection.caller.tenantId, userIds) };
  }

  /** For the call service: `in_call` while true (unless the user appears offline). */
  async setInCall(tenantId: string, userId: string, inCall: boolean): Promise<PresenceInfo> {
    return this.change(tenantId, userId, { live: () => this.deps.store.setInCall(tenantId, userId, inCall) });
  }

  setActivity(connection: Connection, resource: string, active: boolean): Promise<{ viewers: Viewer[] }> {
    return this.viewerTracker.setActivity(connection, resource, active);
  }

  /**
   * Stops a connection's viewing of `resource` without asking the authorizer:
   * for a user who may no longer see it (removed from the conversation), who
   * must leave its viewers at once.
   */
  stopViewing(connection: Connection, resource: string): Promise<void> {
    return this.viewerTracker.stopViewing(connection, resource);
  }

  viewers(caller: Caller, resource: string): Promise<{ viewers: Viewer[] }> {
    return this.viewerTracker.list(caller, resource);
  }

  private onIdleChange(connection: Connection, idle: boolean): void {
    const { tenantId, userId } = connection.caller;
    void this.guard(idle ? "idle" : "active again", () =>
      this.change(tenantId, userId, { live: async () => void (await this.deps.store.setIdle(tenantId, userId, connection.id, idle)) }),
    );
  }

  private scheduleOffline(tenantId: string, userId: string, connectionId: string, leftAt: string): void {
    const pending = { tenantId, userId, connectionId, leftAt } as PendingOffline;
    pending.timer = setTimeout(() => void this.finishOffline(pending), this.deps.offlineGraceMs);
    this.pendingOffline.set(userKey(tenantId, userId), pending);
  }

  private finishOffline(pending: PendingOffline): Promise<void> {
    const { tenantId, userId, connectionId, leftAt } = pending;
    const key = userKey(tenantId, userId);
    return this.guard("offline after grace", () =>
      this.locks.run(key, async () => {
        // Replaced by a device that came back in time.
        if (this.pendingOffline.get(key) !== pending) return;
        this.pendingOffline.delete(key);
        await this.changeLocked(tenantId, userId, this.leave(tenantId, userId, connectionId, leftAt));
      }),
    );
  }

  /**
   * Removes this node's entry of a connection; when it was the user's last,
   * records lastSeen. Only this node's: a session recovered on another node
   * (within the grace, or before this node saw the close) kept the connection
   * id, and that node's entry is the user's live device now.
   */
  private leave(tenantId: string, userId: string, connectionId: string, leftAt: string): Change {
    return {
      live: async () => void (await this.deps.store.removeConnection(tenantId, userId, connectionId, this.deps.nodeId)),
      record: () => this.recordLastSeen(tenantId, userId, leftAt),
    };
  }

  /** Once a user has no connection left: lastSeen, unless they appear offline (the time they chose it stands). */
  private async recordLastSeen(tenantId: string, userId: string, at: string): Promise<PresenceRecord | void> {
    const [records, live] = await Promise.all([this.deps.records.get(tenantId, [userId]), this.deps.store.users(tenantId, [userId])]);
    if ((live.get(userId)?.connections.length ?? 0) > 0 || records.get(userId)?.status === "offline") return;
    return this.deps.records.update(tenantId, userId, { lastSeen: at });
  }

  /** Renews this node's leases, then announces the users of stopped nodes whose entries expired. */
  private async maintain(): Promise<void> {
    // Renewing first means a node whose event loop stalled never takes its own live entries as expired.
    await this.deps.store.renew(this.deps.nodeId, this.leaseMs);
    const expired = await this.deps.store.takeExpired(Date.now());
    for (const { tenantId, userId, connections, lastRenewedAt } of expiredByUser(expired.connections)) {
      const record = () => this.recordLastSeen(tenantId, userId, lastRenewedAt);
      await this.guard("expire connections", () => this.change(tenantId, userId, { record }, connections));
    }
    for (const { tenantId, resource, viewer } of expired.viewers) {
      await this.guard("expire viewers", () => this.viewerTracker.departed(tenantId, resource, viewer));
    }
  }

  private change(tenantId: string, userId: string, change: Change, goneBefore: PresenceConnection[] = []): Promise<PresenceInfo> {
    return this.locks.run(userKey(tenantId, userId), () => this.changeLocked(tenantId, userId, change, goneBefore));
  }

  /**
   * Applies a change and publishes the user's presence if what subscribers see
   * differs. The caller holds the user's lock. `goneBefore` are connections
   * already removed (expired) that still count for the "before" picture.
   */
  private async changeLocked(tenantId: string, userId: string, change: Change, goneBefore: PresenceConnection[] = []): Promise<PresenceInfo> {
    let before: Snapshot;
    try {
      const [records, live] = await Promise.all([this.deps.records.get(tenantId, [userId]), this.deps.store.users(tenantId, [userId])]);
      const liveBefore = live.get(userId);
      before = {
        record: records.get(userId),
        live: goneBefore.length === 0 ? liveBefore : { inCall: liveBefore?.inCall ?? false, connections: [...(liveBefore?.connections ?? []), ...goneBefore] },
      };
    } catch (err) {
      // Nobody can be told without the record, but the live state must still follow the connections.
      await change.live?.();
      throw err;
    }
    await change.live?.();
    const updated = await change.record?.(before);
    const after = presenceInfo(userId, updated ?? before.record, (await this.deps.store.users(tenantId, [userId])).get(userId));
    const previous = presenceInfo(userId, before.record, before.live);
    if (!samePresence(previous, after)) {
      await this.deps.broker.publish({ tenantId, channels: [presenceChannel(userId)], event: "presence:changed", data: after });
      if ((previous.status === "offline") !== (after.status === "offline")) {
        const type = after.status === "offline" ? "user.offline" : "user.online";
        await this.deps.domainEvents?.emit({ type, tenantId, userId, at: new Date().toISOString() });
      }
    }
    return after;
  }

  private async guard(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (err instanceof DependencyUnavailableError) this.deps.logger.warn({ what, dependency: err.dependency }, "presence update skipped: dependency unavailable");
      else this.deps.logger.error({ err, what }, "presence update failed");
    }
  }
}

function userKey(tenantId: string, userId: string): string {
  return `user/${tenantId}/${userId}`;
}

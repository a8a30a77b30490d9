import type { ExpiredEntries, LiveUserState, PresenceConnection, PresenceStore, PresenceViewer } from "../../ports/presence-store.js";

/** A node's lease: its last sign of life, and when the lease runs out. */
interface Lease {
  renewedAt: number;
  expiresAt: number;
}

/** An entry of a tenant, and the resource a viewer entry is filed under (none on a connection entry). */
interface Stored<T extends { nodeId: string }> {
  tenantId: string;
  value: T;
  resource?: string;
}

type Entry = Stored<PresenceConnection> | Stored<PresenceViewer>;

/**
 * Presence entries of a single node, in memory. Leases are kept and honoured
 * like a shared driver would (so the service's expiry path is the same), though
 * on one node the entries die with the process anyway.
 *
 * As in the Redis driver, the lease is the node's, not each entry's: `renew`
 * sets it, and every entry the node adds is a sign of life that extends it.
 * When it runs out, all the node's entries go. Renewing once touched every
 * entry, and looking for expired ones copied every user's entries: about 30 ms
 * of stalled event loop every 10 s at 20,000 connections. Now `renew` is one
 * write, and `takeExpired` walks only the entries of nodes whose lease ran out.
 */
export class MemoryPresenceStore implements PresenceStore {
  /** nodeId -> the node's lease */
  private readonly leases = new Map<string, Lease>();
  /** nodeId -> its connection and viewer entries */
  private readonly byNode = new Map<string, Set<Entry>>();
  /** tenant/user -> connection id -> entry */
  private readonly connections = new Map<string, Map<string, Stored<PresenceConnection>>>();
  /** tenant/user of users in a call */
  private readonly inCall = new Set<string>();
  /** tenant/resource -> connection id -> entry, in the order viewing started */
  private readonly viewing = new Map<string, Map<string, Stored<PresenceViewer>>>();
  /** tenant/connection id -> resources it views */
  private readonly viewedBy = new Map<string, Set<string>>();

  async addConnection(tenantId: string, connection: PresenceConnection, leaseMs: number): Promise<void> {
    const key = scope(tenantId, connection.userId);
    let entries = this.connections.get(key);
    if (!entries) this.connections.set(key, (entries = new Map()));
    const previous = entries.get(connection.connectionId);
    if (previous) this.unindex(previous);
    const entry: Stored<PresenceConnection> = { tenantId, value: { ...connection } };
    entries.set(connection.connectionId, entry);
    this.index(entry, leaseMs);
  }

  async removeConnection(tenantId: string, userId: string, connectionId: string, nodeId?: string): Promise<boolean> {
    const key = scope(tenantId, userId);
    const entries = this.connections.get(key);
    const entry = entries?.get(connectionId);
    if (!entries || !entry || (nodeId !== undefined && entry.value.nodeId !== nodeId)) return false;
    entries.delete(connectionId);
    this.unindex(entry);
    if (entries.size === 0) this.connections.delete(key);
    return true;
  }

  async setIdle(tenantId: string, userId: string, connectionId: string, idle: boolean): Promise<boolean> {
    const entry = this.connections.get(scope(tenantId, userId))?.get(connectionId);
    if (!entry) return false;
    entry.value.idle = idle;
    return true;
  }

  async users(tenantId: string, userIds: readonly string[]): Promise<Map<string, LiveUserState>> {
    const result = new Map<string, LiveUserState>();
    for (const userId of userIds) {
      const key = scope(tenantId, userId);
      const entries = this.connections.get(key);
      const inCall = this.inCall.has(key);
      if (!entries && !inCall) continue;
      result.set(userId, { connections: entries ? [...entries.values()].map((e) => ({ ...e.value })) : [], inCall });
    }
    return result;
  }

  async setInCall(tenantId: string, userId: string, inCall: boolean): Promise<void> {
    if (inCall) this.inCall.add(scope(tenantId, userId));
    else this.inCall.delete(scope(tenantId, userId));
  }

  async addViewer(tenantId: string, resource: string, viewer: PresenceViewer, leaseMs: number): Promise<void> {
    const key = scope(tenantId, resource);
    let entries = this.viewing.get(key);
    if (!entries) this.viewing.set(key, (entries = new Map()));
    // Viewing again keeps the original `since` and place in the list.
    const existing = entries.get(viewer.connectionId);
    if (existing) {
      this.hold(existing.value.nodeId, leaseMs);
      return;
    }
    const entry: Stored<PresenceViewer> = { tenantId, value: { ...viewer }, resource };
    entries.set(viewer.connectionId, entry);
    this.index(entry, leaseMs);
    const connKey = scope(tenantId, viewer.connectionId);
    let resources = this.viewedBy.get(connKey);
    if (!resources) this.viewedBy.set(connKey, (resources = new Set()));
    resources.add(resource);
  }

  async removeViewer(tenantId: string, resource: string, connectionId: string): Promise<PresenceViewer | undefined> {
    const key = scope(tenantId, resource);
    const entries = this.viewing.get(key);
    const entry = entries?.get(connectionId);
    if (!entries || !entry) return undefined;
    entries.delete(connectionId);
    this.unindex(entry);
    if (entries.size === 0) this.viewing.delete(key);
    const connKey = scope(tenantId, connectionId);
    const resources = this.viewedBy.get(connKey);
    resources?.delete(resource);
    if (resources?.size === 0) this.viewedBy.delete(connKey);
    return { ...entry.value };
  }

  async removeViewerEverywhere(tenantId: string, connectionId: string): Promise<{ resource: string; viewer: PresenceViewer }[]> {
    const resources = [...(this.viewedBy.get(scope(tenantId, connectionId)) ?? [])];
    const removed: { resource: string; viewer: PresenceViewer }[] = [];
    for (const resource of resources) {
      const viewer = await this.removeViewer(tenantId, resource, connectionId);
      if (viewer) removed.push({ resource, viewer });
    }
    return removed;
  }

  async viewers(tenantId: string, resource: string): Promise<PresenceViewer[]> {
    return [...(this.viewing.get(scope(tenantId, resource))?.values() ?? [])].map((e) => ({ ...e.value }));
  }

  async renew(nodeId: string, leaseMs: number): Promise<void> {
    const now = Date.now();
    this.leases.set(nodeId, { renewedAt: now, expiresAt: now + leaseMs });
  }

  async takeExpired(now: number): Promise<ExpiredEntries> {
    const expired: ExpiredEntries = { connections: [], viewers: [] };
    for (const [nodeId, entries] of [...this.byNode]) {
      const lease = this.leases.get(nodeId);
      if (lease && lease.expiresAt >= now) continue;
      const lastRenewedAt = new Date(lease?.renewedAt ?? 0).toISOString();
      for (const entry of [...entries]) {
        if (entry.resource === undefined) {
          const connection = entry.value as PresenceConnection;
          // Handed out once: not if it went meanwhile (its departure was announced then).
          if (await this.removeConnection(entry.tenantId, connection.userId, connection.connectionId)) expired.connections.push({ tenantId: entry.tenantId, connection: { ...connection }, lastRenewedAt });
        } else {
          const viewer = await this.removeViewer(entry.tenantId, entry.resource, entry.value.connectionId);
          if (viewer) expired.viewers.push({ tenantId: entry.tenantId, resource: entry.resource, viewer });
        }
      }
      // As in Redis: a node that added entries meanwhile has a new lease for them.
      if (!this.byNode.has(nodeId)) this.leases.delete(nodeId);
    }
    return expired;
  }

  /** Extends the node's lease to at least `leaseMs` from now: an entry it adds is a sign of life. */
  private hold(nodeId: string, leaseMs: number): void {
    const now = Date.now();
    const lease = this.leases.get(nodeId);
    this.leases.set(nodeId, { renewedAt: now, expiresAt: Math.max(lease?.expiresAt ?? 0, now + leaseMs) });
  }

  private index(entry: Entry, leaseMs: number): void {
    this.hold(entry.value.nodeId, leaseMs);
    let entries = this.byNode.get(entry.value.nodeId);
    if (!entries) this.byNode.set(entry.value.nodeId, (entries = new Set()));
    entries.add(entry);
  }

  private unindex(entry: Entry): void {
    const entries = this.byNode.get(entry.value.nodeId);
    if (!entries?.delete(entry)) return;
    if (entries.size === 0) this.byNode.delete(entry.value.nodeId);
  }
}

/** Tenant ids cannot contain `/`, so scoped keys of two tenants never collide. */
function scope(tenantId: string, name: string): string {
  return `${tenantId}/${name}`;
}

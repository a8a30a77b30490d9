import type { ExpiredEntries, LiveUserState, PresenceConnection, PresenceStore, PresenceViewer } from "../../ports/presence-store.js";

interface Leased<T> {
  tenantId: string;
  value: T;
  renewedAt: number;
  expiresAt: number;
}

/**
 * Presence entries of a single node, in memory. Leases are kept and honoured
 * like a shared driver would (so the service's expiry path is the same), though
 * on one node the entries die with the process anyway.
 */
export class MemoryPresenceStore implements PresenceStore {
  /** tenant/user -> connection id -> entry */
  private readonly connections = new Map<string, Map<string, Leased<PresenceConnection>>>();
  /** tenant/user of users in a call */
  private readonly inCall = new Set<string>();
  /** tenant/resource -> connection id -> entry, in the order viewing started */
  private readonly viewing = new Map<string, Map<string, Leased<PresenceViewer>>>();
  /** tenant/connection id -> resources it views */
  private readonly viewedBy = new Map<string, Set<string>>();

  async addConnection(tenantId: string, connection: PresenceConnection, leaseMs: number): Promise<void> {
    const key = scope(tenantId, connection.userId);
    let entries = this.connections.get(key);
    if (!entries) this.connections.set(key, (entries = new Map()));
    entries.set(connection.connectionId, leased(tenantId, { ...connection }, leaseMs));
  }

  async removeConnection(tenantId: string, userId: string, connectionId: string): Promise<boolean> {
    const key = scope(tenantId, userId);
    const entries = this.connections.get(key);
    if (!entries?.delete(connectionId)) return false;
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
      existing.expiresAt = Math.max(existing.expiresAt, Date.now() + leaseMs);
      return;
    }
    entries.set(viewer.connectionId, leased(tenantId, { ...viewer }, leaseMs));
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
    for (const entry of this.allEntries()) {
      if (entry.value.nodeId !== nodeId) continue;
      entry.renewedAt = now;
      entry.expiresAt = now + leaseMs;
    }
  }

  async takeExpired(now: number): Promise<ExpiredEntries> {
    const expired: ExpiredEntries = { connections: [], viewers: [] };
    for (const entries of [...this.connections.values()]) {
      for (const entry of [...entries.values()]) {
        if (entry.expiresAt >= now) continue;
        const connection = entry.value;
        await this.removeConnection(entry.tenantId, connection.userId, connection.connectionId);
        expired.connections.push({ tenantId: entry.tenantId, connection: { ...connection }, lastRenewedAt: new Date(entry.renewedAt).toISOString() });
      }
    }
    for (const [key, entries] of [...this.viewing]) {
      for (const entry of [...entries.values()]) {
        if (entry.expiresAt >= now) continue;
        const resource = key.slice(entry.tenantId.length + 1);
        const viewer = await this.removeViewer(entry.tenantId, resource, entry.value.connectionId);
        if (viewer) expired.viewers.push({ tenantId: entry.tenantId, resource, viewer });
      }
    }
    return expired;
  }

  private *allEntries(): Iterable<Leased<PresenceConnection | PresenceViewer>> {
    for (const entries of this.connections.values()) yield* entries.values();
    for (const entries of this.viewing.values()) yield* entries.values();
  }
}

function leased<T>(tenantId: string, value: T, leaseMs: number): Leased<T> {
  const now = Date.now();
  return { tenantId, value, renewedAt: now, expiresAt: now + leaseMs };
}

/** Tenant ids cannot contain `/`, so scoped keys of two tenants never collide. */
function scope(tenantId: string, name: string): string {
  return `${tenantId}/${name}`;
}

import type { Connection } from "./connection.js";
import type { ConnectionListener } from "./connection-listener.js";

/**
 * This node's open connections per user, across protocols. Answers "is this user
 * connected here?" (call disconnect grace, health counts) without asking a
 * transport. Cross-node answers belong to the presence store.
 */
export class ConnectionRegistry implements ConnectionListener {
  private readonly byUser = new Map<string, Map<string, Connection>>();
  private readonly reconnectWaiters = new Map<string, Set<() => void>>();

  async connected(connection: Connection): Promise<void> {
    const key = userKey(connection.caller.tenantId, connection.caller.userId);
    let set = this.byUser.get(key);
    if (!set) this.byUser.set(key, (set = new Map()));
    set.set(connection.id, connection);
    for (const wake of this.reconnectWaiters.get(key) ?? []) wake();
  }

  async disconnected({ caller, id }: Connection): Promise<void> {
    const key = userKey(caller.tenantId, caller.userId);
    const set = this.byUser.get(key);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.byUser.delete(key);
  }

  isConnected(tenantId: string, userId: string): boolean {
    return this.byUser.has(userKey(tenantId, userId));
  }

  /** This user's open connections on this node (as keyed when they connected). */
  connectionsOf(tenantId: string, userId: string): Iterable<Connection> {
    return this.byUser.get(userKey(tenantId, userId))?.values() ?? [];
  }

  /** How many connections this user has open on this node. */
  connectionCount(tenantId: string, userId: string): number {
    return this.byUser.get(userKey(tenantId, userId))?.size ?? 0;
  }

  /** Distinct users with at least one connection on this node. */
  get activeUserCount(): number {
    return this.byUser.size;
  }

  /** Runs `fn` whenever a connection of this user opens; returns the function that stops it. */
  onReconnect(tenantId: string, userId: string, fn: () => void): () => void {
    const key = userKey(tenantId, userId);
    let set = this.reconnectWaiters.get(key);
    if (!set) this.reconnectWaiters.set(key, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.reconnectWaiters.delete(key);
    };
  }
}

function userKey(tenantId: string, userId: string): string {
  return `${tenantId}/${userId}`;
}

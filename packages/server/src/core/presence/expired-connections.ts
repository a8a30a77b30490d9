import type { ExpiredEntries, PresenceConnection } from "../../ports/presence-store.js";

/** The expired connections of one user, and the last sign of life among them. */
export interface ExpiredUser {
  tenantId: string;
  userId: string;
  connections: PresenceConnection[];
  lastRenewedAt: string;
}

/**
 * Groups a stopped node's expired connections by user, so a user who lost
 * several devices at once is announced once, with the latest renewal as lastSeen.
 */
export function expiredByUser(expired: ExpiredEntries["connections"]): ExpiredUser[] {
  const users = new Map<string, ExpiredUser>();
  for (const { tenantId, connection, lastRenewedAt } of expired) {
    const key = `${tenantId}/${connection.userId}`;
    const user = users.get(key) ?? { tenantId, userId: connection.userId, connections: [], lastRenewedAt };
    user.connections.push(connection);
    if (lastRenewedAt > user.lastRenewedAt) user.lastRenewedAt = lastRenewedAt;
    users.set(key, user);
  }
  return [...users.values()];
}

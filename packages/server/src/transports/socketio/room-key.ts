/**
 * Socket.IO room names are tenant-scoped channel names: `acme/patient:42`.
 * Tenant ids cannot contain `/`, so the split is unambiguous and a channel name
 * from one tenant can never address another tenant's room.
 */
export function roomKey(tenantId: string, channel: string): string {
  return `${tenantId}/${channel}`;
}

/** The channel of a room of this tenant, or undefined (socket-id rooms, other tenants). */
export function channelOfRoom(tenantId: string, room: string): string | undefined {
  const prefix = `${tenantId}/`;
  return room.startsWith(prefix) ? room.slice(prefix.length) : undefined;
}

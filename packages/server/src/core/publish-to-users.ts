import type { Broker } from "../ports/broker.js";

/**
 * Sends an event to every device of each user through their `user:` channel
 * (one delivery per connection however many of the users it belongs to),
 * except the connection that caused it. Nothing is published for no users.
 */
export function publishToUsers(
  broker: Broker,
  tenantId: string,
  userIds: readonly string[],
  event: string,
  data: unknown,
  exceptConnectionId?: string,
): Promise<void> {
  if (userIds.length === 0) return Promise.resolve();
  return broker.publish({ tenantId, channels: userIds.map((id) => `user:${id}`), event, data, exceptConnectionId });
}

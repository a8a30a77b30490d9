import type { ChannelService } from "../../core/channels/channel-service.js";
import type { Connection } from "../../core/connection.js";

/**
 * Joins the connection that made a request to the channel of what it used
 * (PROTOCOL.md section 3: `conversation:{id}` "on `message:*` use", `call:{id}`
 * "on call events"), once: a connection already in it is left as it is.
 *
 * Called after the request succeeded, so the caller has just been shown to be
 * a participant; the channel service still asks the authorizer, as for any
 * join. A join that fails (the store is briefly unavailable) does not undo the
 * request that prompted it: the client can still `room:join` by hand.
 */
export async function joinOnUse(channels: ChannelService, connection: Connection, channel: string): Promise<void> {
  for (const joined of connection.channels()) if (joined === channel) return;
  await channels.join(connection, channel).catch(() => {});
}

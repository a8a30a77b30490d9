import type { ChannelService } from "../../core/channels/channel-service.js";
import type { Connection } from "../../core/connection.js";

/**
 * Joins the connection that made a request to the channel of what it used
 * (PROTOCOL.md section 3: `conversation:{id}` "on `message:*` use", `call:{id}`
 * "on call events"), once: a connection already in it is left as it is.
 *
 * Called after the request succeeded, so the caller has just been shown to be
 * a participant, and the authorizer is not asked again (it would repeat that
 * check as one more query: chat throughput fell by a fifth with it). A join
 * that fails (the member store is briefly unavailable) does not undo the
 * request that prompted it: the client can still `room:join` by hand.
 */
export async function joinOnUse(channels: ChannelService, connection: Connection, channel: string): Promise<void> {
  if (connection.isSubscribed(channel)) return;
  await channels.joinAsParticipant(connection, channel).catch(() => {});
}

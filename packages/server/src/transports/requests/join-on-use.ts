import type { ChannelService } from "../../core/channels/channel-service.js";
import type { Connection } from "../../core/connection.js";

/**
 * Joins the connection that made a request to the channel of what it used
 * (PROTOCOL.md section 3: `conversation:{id}` "on `message:*` use", `call:{id}`
 * "on call events", `topic:{name}` "via `notification:subscribe`"), once: a
 * connection already in it is left as it is.
 *
 * Called after the request succeeded, so the caller has just been shown to be
 * a participant (any user of the tenant may have a topic), and the authorizer is not asked again (it would repeat that
 * check as one more query: chat throughput fell by a fifth with it). A join
 * that fails (the member store is briefly unavailable) does not undo the
 * request that prompted it: the client can still `room:join` by hand.
 */
export async function joinOnUse(channels: ChannelService, connection: Connection, channel: string): Promise<void> {
  if (connection.isSubscribed(channel)) return;
  await channels.joinByUse(connection, channel).catch(() => {});
}

/**
 * A request handler that runs `run` and then, once it succeeded, joins the
 * connection to `channelOf(payload, result)` ({@link joinOnUse}): the one wrapper
 * the chat and call requests that join by use share.
 */
export function joiningOnUse<P, R>(
  channels: ChannelService,
  run: (connection: Connection, payload: P) => Promise<R>,
  channelOf: (payload: P, result: R) => string,
): (connection: Connection, payload: P) => Promise<R> {
  return async (connection, payload) => {
    const result = await run(connection, payload);
    await joinOnUse(channels, connection, channelOf(payload, result));
    return result;
  };
}

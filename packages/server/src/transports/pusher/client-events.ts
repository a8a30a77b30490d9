import type { Broker } from "../../ports/broker.js";
import type { z } from "zod";
import { dataBytes, dataString, decodeData, type frameSchema } from "./frames.js";
import type { PusherConnection } from "./pusher-connection.js";
import type { PusherWebhooks } from "./webhooks.js";

/** Largest client event `data`, as Pusher counts it. */
export const CLIENT_EVENT_MAX_BYTES = 10 * 1024;
/** `pusher:error` code for a client event over the rate limit. */
export const CLIENT_EVENT_RATE_LIMIT_CODE = 4301;

type Frame = z.infer<typeof frameSchema>;

/**
 * `client-*` events: only on private and presence channels the connection is
 * subscribed to (not encrypted ones), at most 10 per second, data up to 10 KB.
 * They go out through the Broker like any channel event, so Socket.IO members
 * of the channel receive them under the same name; the sender is excluded.
 * A refused event is answered with `pusher:error` and the connection stays open.
 */
export class ClientEvents {
  constructor(
    private readonly broker: Broker,
    private readonly webhooks: PusherWebhooks,
  ) {}

  async handle(connection: PusherConnection, frame: Frame): Promise<void> {
    const subscription = frame.channel === undefined ? undefined : connection.subscriptions.get(frame.channel);
    if (!subscription) return connection.error(`client event ${frame.event} refused: not subscribed to ${frame.channel ?? "(no channel)"}`);
    if ((subscription.type !== "private" && subscription.type !== "presence") || subscription.encrypted) {
      return connection.error(`client event ${frame.event} refused: client events are only supported on private and presence channels`);
    }
    if (dataBytes(frame.data ?? null) > CLIENT_EVENT_MAX_BYTES) {
      return connection.error(`client event ${frame.event} refused: data is limited to ${CLIENT_EVENT_MAX_BYTES} bytes`);
    }
    if (!connection.takeClientEvent()) {
      return connection.error("Client event rejected due to rate limit", CLIENT_EVENT_RATE_LIMIT_CODE);
    }
    const userId = subscription.member?.userId;
    await this.broker.publish({
      tenantId: connection.app.tenantId,
      channels: [subscription.channel],
      event: frame.event,
      data: decodeData(frame.data ?? null),
      exceptConnectionId: connection.id,
      ...(userId !== undefined && { userId }),
    });
    this.webhooks.send(connection.app.tenantId, {
      name: "client_event",
      channel: subscription.name,
      event: frame.event,
      data: dataString(frame.data ?? null),
      socket_id: connection.id,
      ...(userId !== undefined && { user_id: userId }),
    });
  }
}

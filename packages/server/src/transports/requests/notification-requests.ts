import { notificationListSchema, notificationReadSchema, topicsSchema } from "@switchboard/protocol";
import { z } from "zod";
import type { ChannelService } from "../../core/channels/channel-service.js";
import type { NotificationService } from "../../core/notifications/notification-service.js";
import { joinOnUse } from "./join-on-use.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

const empty = z.object({});

/**
 * Notification requests (PROTOCOL.md section 6). A topic subscription is the
 * user's (topic notifications are stored for them, connected or not); the
 * connection that subscribes also joins each topic's live channel
 * `topic:{name}` (section 3), and leaves it when it unsubscribes.
 */
export function notificationRequests(notifications: NotificationService, channels: ChannelService): RequestHandlers {
  return {
    "notification:list": defineRequest(notificationListSchema, (c, p) => notifications.list(c.caller, p)),
    "notification:read": defineRequest(notificationReadSchema, (c, p) => notifications.read(c.caller, p.id)),
    "notification:readAll": defineRequest(empty, (c) => notifications.readAll(c.caller)),
    "notification:getUnreadCount": defineRequest(empty, (c) => notifications.unreadCount(c.caller)),
    "notification:subscribe": defineRequest(topicsSchema, async (c, p) => {
      const result = await notifications.subscribe(c.caller, p.topics);
      for (const topic of new Set(p.topics)) await joinOnUse(channels, c, `topic:${topic}`);
      return result;
    }),
    "notification:unsubscribe": defineRequest(topicsSchema, async (c, p) => {
      const result = await notifications.unsubscribe(c.caller, p.topics);
      for (const topic of new Set(p.topics)) if (c.isSubscribed(`topic:${topic}`)) await channels.leave(c, `topic:${topic}`);
      return result;
    }),
  };
}

import { notificationListSchema, notificationReadSchema, topicsSchema } from "@switchboard/protocol";
import { z } from "zod";
import type { NotificationService } from "../../core/notifications/notification-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

const empty = z.object({});

/** Notification requests (PROTOCOL.md section 6). */
export function notificationRequests(notifications: NotificationService): RequestHandlers {
  return {
    "notification:list": defineRequest(notificationListSchema, (c, p) => notifications.list(c.caller, p)),
    "notification:read": defineRequest(notificationReadSchema, (c, p) => notifications.read(c.caller, p.id)),
    "notification:readAll": defineRequest(empty, (c) => notifications.readAll(c.caller)),
    "notification:getUnreadCount": defineRequest(empty, (c) => notifications.unreadCount(c.caller)),
    "notification:subscribe": defineRequest(topicsSchema, (c, p) => notifications.subscribe(c.caller, p.topics)),
    "notification:unsubscribe": defineRequest(topicsSchema, (c, p) => notifications.unsubscribe(c.caller, p.topics)),
  };
}

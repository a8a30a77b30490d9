import {
  presenceGetSchema,
  presenceSetActivitySchema,
  presenceSetStatusSchema,
  presenceSubscribeSchema,
  presenceUnsubscribeSchema,
  presenceViewersSchema,
} from "@switchboard/protocol";
import type { PresenceService } from "../../core/presence/presence-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/** `presence:*` requests (PROTOCOL.md section 5). */
export function presenceRequests(presence: PresenceService): RequestHandlers {
  return {
    "presence:setStatus": defineRequest(presenceSetStatusSchema, (connection, { status, custom }) => presence.setStatus(connection.caller, status, custom)),
    "presence:get": defineRequest(presenceGetSchema, async (connection, { userIds }) => ({
      presence: await presence.get(connection.caller.tenantId, userIds),
    })),
    "presence:subscribe": defineRequest(presenceSubscribeSchema, (connection, { userIds }) => presence.subscribe(connection, userIds)),
    "presence:unsubscribe": defineRequest(presenceUnsubscribeSchema, (connection, { userIds }) => presence.unsubscribe(connection, userIds)),
    "presence:setActivity": defineRequest(presenceSetActivitySchema, (connection, { resource, active }) => presence.setActivity(connection, resource, active)),
    "presence:viewers": defineRequest(presenceViewersSchema, (connection, { resource }) => presence.viewers(connection.caller, resource)),
  };
}

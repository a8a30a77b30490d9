import { roomJoinSchema, roomLeaveSchema, roomParticipantsSchema } from "@switchboard/protocol";
import type { ChannelService } from "../../core/channels/channel-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/** `room:join`, `room:leave`, `room:participants` (PROTOCOL.md section 3). */
export function roomRequests(channels: ChannelService): RequestHandlers {
  return {
    "room:join": defineRequest(roomJoinSchema, (connection, { room }) => channels.join(connection, room)),
    "room:leave": defineRequest(roomLeaveSchema, (connection, { room }) => channels.leave(connection, room)),
    "room:participants": defineRequest(roomParticipantsSchema, (connection, { room }) => channels.participants(connection.caller, room)),
  };
}

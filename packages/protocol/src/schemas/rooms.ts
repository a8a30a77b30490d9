import { z } from "zod";
import { channelSchema } from "../identifiers.js";

export const roomJoinSchema = z.object({ room: channelSchema });
export const roomLeaveSchema = roomJoinSchema;
export const roomParticipantsSchema = roomJoinSchema;

export type RoomJoinPayload = z.infer<typeof roomJoinSchema>;

export interface Participant {
  userId: string;
  name: string;
}

export interface RoomMembershipEvent {
  room: string;
  userId: string;
  name: string;
}

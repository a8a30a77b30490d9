import type { Ack, ConnectErrorData } from "./errors.js";
import type {
  PresenceActivityEvent,
  PresenceInfo,
  PresenceSetActivityPayload,
  PresenceSetStatusPayload,
  PresenceUsersPayload,
  PresenceViewersPayload,
  Viewer,
} from "./schemas/presence.js";
import type { Participant, RoomJoinPayload, RoomMembershipEvent } from "./schemas/rooms.js";

export type { ConnectErrorData };

/** Ack callback type for a request whose success data is `T`. */
export type AckFn<T> = (ack: Ack<T>) => void;

/** Sent once after a successful handshake. */
export interface ConnectedEvent {
  socketId: string;
  userId: string;
  tenantId: string;
  serverTime: string;
  /** True when Socket.IO connection state recovery restored rooms and missed events. */
  recovered: boolean;
}

export interface ServerShutdownEvent {
  reconnectInMs: number;
}

/**
 * Requests a client may send. Each takes a payload and an ack callback.
 * Use with `Socket<ServerToClientEvents, ClientToServerEvents>` from socket.io-client.
 */
export interface ClientToServerEvents {
  "room:join": (payload: RoomJoinPayload, ack?: AckFn<{ room: string }>) => void;
  "room:leave": (payload: RoomJoinPayload, ack?: AckFn<{ room: string }>) => void;
  "room:participants": (payload: RoomJoinPayload, ack?: AckFn<{ participants: Participant[] }>) => void;
  "presence:setStatus": (payload: PresenceSetStatusPayload, ack?: AckFn<{ presence: PresenceInfo }>) => void;
  "presence:get": (payload: PresenceUsersPayload, ack?: AckFn<{ presence: PresenceInfo[] }>) => void;
  "presence:subscribe": (payload: PresenceUsersPayload, ack?: AckFn<{ presence: PresenceInfo[] }>) => void;
  "presence:unsubscribe": (payload: PresenceUsersPayload, ack?: AckFn<{ presence: PresenceInfo[] }>) => void;
  "presence:setActivity": (payload: PresenceSetActivityPayload, ack?: AckFn<{ viewers: Viewer[] }>) => void;
  "presence:viewers": (payload: PresenceViewersPayload, ack?: AckFn<{ viewers: Viewer[] }>) => void;
}

/** Events the server pushes to clients. App events published to channels arrive under their own names. */
export interface ServerToClientEvents {
  connected: (event: ConnectedEvent) => void;
  "server:shutdown": (event: ServerShutdownEvent) => void;
  "room:userJoined": (event: RoomMembershipEvent) => void;
  "room:userLeft": (event: RoomMembershipEvent) => void;
  "presence:changed": (event: PresenceInfo) => void;
  "presence:activity": (event: PresenceActivityEvent) => void;
}

export type RequestName = keyof ClientToServerEvents;

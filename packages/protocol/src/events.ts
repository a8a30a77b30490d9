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
import type {
  Conversation,
  ConversationCreatePayload,
  ConversationListPayload,
  ConversationSummary,
  Message,
  MessageDeletedEvent,
  MessageEditPayload,
  MessageHistoryPayload,
  MessageSendPayload,
  ParticipantsChangePayload,
  ReceiptEvent,
  ReceiptPayload,
  TypingEvent,
} from "./schemas/chat.js";
import type { Notification, NotificationListPayload } from "./schemas/notifications.js";
import type { Call, CallEndReason, CallInitiatePayload, CallQualityIssueEvent, CallQualityPayload, CallRejectPayload, CallSignalEvent, CallSignalPayload } from "./schemas/calls.js";

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

/** Events from other nodes may have been missed: fetch gaps by `seq` and re-read counts. */
export interface ServerResyncEvent {
  reason: string;
}

/** The connection's token expired; the server closes the connection right after. */
export interface TokenExpiredEvent {
  code: "token_expired";
  /** The token's `exp` (seconds since the epoch). */
  exp: number;
}

/** Automatic logoff (`SESSION_IDLE_TIMEOUT_MS`); the server closes the connection right after. */
export interface SessionIdleEvent {
  idleMs: number;
}

/**
 * Requests a client may send. Each takes a payload and an ack callback.
 * Use with `Socket<ServerToClientEvents, ClientToServerEvents>` from socket.io-client.
 */
export interface ClientToServerEvents {
  "room:join": (payload: RoomJoinPayload, ack?: AckFn<{ room: string }>) => void;
  "room:leave": (payload: RoomJoinPayload, ack?: AckFn<{ room: string }>) => void;
  "room:participants": (payload: RoomJoinPayload, ack?: AckFn<{ participants: Participant[] }>) => void;
  "conversation:create": (payload: ConversationCreatePayload, ack?: AckFn<{ conversation: Conversation }>) => void;
  "conversation:list": (payload: ConversationListPayload, ack?: AckFn<{ conversations: ConversationSummary[] }>) => void;
  "conversation:get": (payload: { conversationId: string }, ack?: AckFn<{ conversation: ConversationSummary }>) => void;
  "conversation:addParticipants": (payload: ParticipantsChangePayload, ack?: AckFn<{ conversation: Conversation }>) => void;
  "conversation:removeParticipants": (payload: ParticipantsChangePayload, ack?: AckFn<{ conversation: Conversation }>) => void;
  "conversation:leave": (payload: { conversationId: string }, ack?: AckFn<{ conversationId: string }>) => void;
  "message:send": (payload: MessageSendPayload, ack?: AckFn<{ message: Message }>) => void;
  "message:history": (payload: MessageHistoryPayload, ack?: AckFn<{ messages: Message[]; hasMore: boolean }>) => void;
  "message:edit": (payload: MessageEditPayload, ack?: AckFn<{ message: Message }>) => void;
  "message:delete": (payload: { messageId: string }, ack?: AckFn<MessageDeletedEvent>) => void;
  "message:delivered": (payload: ReceiptPayload, ack?: AckFn<Record<string, never>>) => void;
  "message:read": (payload: ReceiptPayload, ack?: AckFn<{ unreadCount: number }>) => void;
  "typing:start": (payload: { conversationId: string }, ack?: AckFn<Record<string, never>>) => void;
  "typing:stop": (payload: { conversationId: string }, ack?: AckFn<Record<string, never>>) => void;
  "call:initiate": (payload: CallInitiatePayload, ack?: AckFn<{ call: Call }>) => void;
  "call:accept": (payload: { callId: string }, ack?: AckFn<{ call: Call }>) => void;
  "call:reject": (payload: CallRejectPayload, ack?: AckFn<Record<string, never>>) => void;
  "call:end": (payload: { callId: string }, ack?: AckFn<Record<string, never>>) => void;
  "call:signal": (payload: CallSignalPayload, ack?: AckFn<Record<string, never>>) => void;
  "call:quality": (payload: CallQualityPayload, ack?: AckFn<Record<string, never>>) => void;
  "notification:list": (payload: NotificationListPayload, ack?: AckFn<{ notifications: Notification[]; hasMore: boolean }>) => void;
  "notification:read": (payload: { id: string }, ack?: AckFn<{ unreadCount: number }>) => void;
  "notification:readAll": (payload: Record<string, never>, ack?: AckFn<{ unreadCount: 0 }>) => void;
  "notification:getUnreadCount": (payload: Record<string, never>, ack?: AckFn<{ count: number }>) => void;
  "notification:subscribe": (payload: { topics: string[] }, ack?: AckFn<{ topics: string[] }>) => void;
  "notification:unsubscribe": (payload: { topics: string[] }, ack?: AckFn<{ topics: string[] }>) => void;
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
  "server:resync": (event: ServerResyncEvent) => void;
  token_expired: (event: TokenExpiredEvent) => void;
  "session:idle": (event: SessionIdleEvent) => void;
  "room:userJoined": (event: RoomMembershipEvent) => void;
  "room:userLeft": (event: RoomMembershipEvent) => void;
  "conversation:new": (event: { conversation: Conversation }) => void;
  "conversation:updated": (event: { conversation: Conversation }) => void;
  "conversation:removed": (event: { conversationId: string }) => void;
  "message:new": (event: { message: Message }) => void;
  "message:updated": (event: { message: Message }) => void;
  "message:deleted": (event: MessageDeletedEvent) => void;
  "message:delivered": (event: ReceiptEvent) => void;
  "message:read": (event: ReceiptEvent) => void;
  "typing:start": (event: TypingEvent) => void;
  "typing:stop": (event: TypingEvent) => void;
  "call:incoming": (event: { call: Call }) => void;
  "call:accepted": (event: { callId: string; userId: string }) => void;
  "call:rejected": (event: { callId: string; userId: string; reason: string }) => void;
  "call:ended": (event: { callId: string; reason: CallEndReason; durationMs: number }) => void;
  "call:missed": (event: { callId: string; call: Call }) => void;
  "call:signal": (event: CallSignalEvent) => void;
  "call:qualityIssue": (event: CallQualityIssueEvent) => void;
  "notification:new": (event: { notification: Notification }) => void;
  "notification:unreadCount": (event: { count: number }) => void;
  "presence:changed": (event: PresenceInfo) => void;
  "presence:activity": (event: PresenceActivityEvent) => void;
}

export type RequestName = keyof ClientToServerEvents;

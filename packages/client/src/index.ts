/**
 * `@switchboard/client`: the Switchboard SDK for browsers and Node.
 * Typed requests over Socket.IO, token renewal, reconnection with jittered
 * backoff, an offline outbox and gapless, ordered chat history.
 */
export { createClient, type ClientOptions, type SwitchboardClient } from "./client.js";
export type { ConnectionEvents, ResyncEvent } from "./connection.js";
export { SwitchboardError, type SwitchboardErrorCode } from "./errors.js";
export type { BackoffOptions } from "./backoff.js";
export type { AckData, ConnectionStatus, RequestPayload, ServerEventData, ServerEventName, Unsubscribe } from "./types.js";
export type { ChatService, ChatEventName } from "./services/chat.js";
export type { ConversationView, ConversationSnapshot } from "./services/conversation-view.js";
export type { PendingMessage } from "./services/outbox.js";
export type { PresenceService } from "./services/presence.js";
export type { NotificationsService, NotificationsSnapshot } from "./services/notifications.js";
export type { CallsService, CallEventName } from "./services/calls.js";
export type { CallSession, CallSnapshot, CallPhase, CallSessionOptions } from "./services/call-session.js";
export type { ChannelsService } from "./services/channels.js";
export type * from "@switchboard/protocol";

import type { ConnectedEvent } from "@switchboard/protocol";
import { Connection, type ConnectionEvents, type ConnectionOptions } from "./connection.js";
import { CallSession, type CallSessionOptions } from "./services/call-session.js";
import { CallsService } from "./services/calls.js";
import { ChannelsService } from "./services/channels.js";
import { ChatService } from "./services/chat.js";
import { NotificationsService } from "./services/notifications.js";
import { PresenceService } from "./services/presence.js";
import type { AckData, ConnectionStatus, RequestPayload, ServerEventData, ServerEventName, Unsubscribe } from "./types.js";
import type { RequestName } from "@switchboard/protocol";

export interface ClientOptions extends ConnectionOptions {
  /** WebRTC settings for `client.callSession`. */
  calls?: CallSessionOptions;
}

/** A Switchboard client: one connection and the services that use it. */
export interface SwitchboardClient {
  /** Current connection status. */
  readonly status: ConnectionStatus;
  /** Listens to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus) => void): Unsubscribe;
  /** The session (`userId`, `tenantId`, `socketId`, ...) while connected. */
  readonly session: ConnectedEvent | undefined;
  readonly chat: ChatService;
  readonly presence: PresenceService;
  readonly notifications: NotificationsService;
  readonly calls: CallsService;
  /** This device's call with WebRTC media (media needs a browser; the state tracking works anywhere). */
  readonly callSession: CallSession;
  readonly channels: ChannelsService;
  /** Any request by name, typed from the protocol. */
  request<E extends RequestName>(event: E, payload: RequestPayload<E>, options?: { timeoutMs?: number }): Promise<AckData<E>>;
  /** Any server event by name. */
  on<K extends ServerEventName>(event: K, handler: (data: ServerEventData<K>) => void): Unsubscribe;
  /** Connection-level events: `status`, `connected`, `resync`, `error`. */
  onConnection<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEvents[K]): Unsubscribe;
  /** Resolves once connected (rejects with `unavailable` after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<void>;
  /** Connects again after `disconnect()` or a fatal refusal. */
  connect(): void;
  /** Disconnects and stops reconnecting (status `offline`); queued messages wait for `connect()`. */
  disconnect(): void;
  /** Disconnects for good and releases everything; sends not yet stored reject with `unavailable` (`details.reason: "closed"`). */
  close(): void;
}

/**
 * Creates a client and starts connecting.
 *
 * @example
 * const client = createClient({ url: "http://localhost:3000", getToken: () => fetch("/token").then((r) => r.text()) });
 * client.onStatus((s) => console.log(s));
 * const conversation = await client.chat.createConversation({ type: "direct", participantIds: ["bob"] });
 * await client.chat.send(conversation.id, "Hello Bob");
 */
export function createClient(options: ClientOptions): SwitchboardClient {
  const connection = new Connection(options);
  const calls = new CallsService(connection);
  // Created at once so that a call ringing before any UI asks for the session is not missed.
  const callSession = new CallSession(connection, calls, options.calls);
  const chat = new ChatService(connection);
  return {
    get status() {
      return connection.status;
    },
    onStatus: (listener) => connection.events.on("status", listener),
    get session() {
      return connection.connectedEvent;
    },
    chat,
    presence: new PresenceService(connection),
    notifications: new NotificationsService(connection),
    calls,
    callSession,
    channels: new ChannelsService(connection),
    request: (event, payload, requestOptions) => connection.request(event, payload, requestOptions),
    on: (event, handler) => connection.on(event, handler),
    onConnection: (event, listener) => connection.events.on(event, listener),
    ready: (timeoutMs) => connection.whenConnected(timeoutMs, "ready"),
    connect: () => connection.connect(),
    disconnect: () => connection.disconnect(),
    close: () => {
      callSession.dispose();
      chat.close();
      connection.close();
    },
  };
}

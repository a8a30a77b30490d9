import type { AckFn, ClientToServerEvents, RequestName, ServerToClientEvents } from "@switchboard/protocol";

/** The payload of request `E`, e.g. `RequestPayload<"message:send">`. */
export type RequestPayload<E extends RequestName> = Parameters<ClientToServerEvents[E]>[0];

/** The ack data of request `E` on success, e.g. `AckData<"message:send">` is `{ message }`. */
export type AckData<E extends RequestName> = NonNullable<Parameters<ClientToServerEvents[E]>[1]> extends AckFn<infer T> ? T : never;

/** Names of events the server pushes. */
export type ServerEventName = keyof ServerToClientEvents;

/** The (first) argument of server event `K`. */
export type ServerEventData<K extends ServerEventName> = Parameters<ServerToClientEvents[K]>[0];

/**
 * Connection status:
 * - `connecting`: the first connection is being made;
 * - `connected`: connected and authenticated (the server's `connected` arrived);
 * - `reconnecting`: the connection was lost (or refused for a reason a retry can fix) and the client retries with backoff;
 * - `offline`: not connected and not retrying: `disconnect()` was called, the
 *   token cannot be renewed, the session was logged off for idleness, or the
 *   browser reports no network (retries resume when it comes back).
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

/** A function that undoes a subscription. */
export type Unsubscribe = () => void;

import type { Caller } from "../auth/caller.js";

/**
 * One live client connection, whatever its protocol. Transports implement it so
 * core services can subscribe a connection to channels without knowing the wire.
 */
export interface Connection {
  /** Unique across nodes and protocols. */
  readonly id: string;
  readonly caller: Caller;
  /** Starts delivering events of a tenant-scoped channel to this connection. */
  subscribe(channel: string): void;
  unsubscribe(channel: string): void;
  /** Channels this connection is subscribed to (without automatic ones the transport manages). */
  channels(): Iterable<string>;
  /** Whether {@link subscribe} was called for this channel (and not undone): a lookup, not a walk over {@link channels}. */
  isSubscribed(channel: string): boolean;
  /** Sends one event to this connection only (e.g. `token_expired`). */
  notify(event: string, data: unknown): void;
  /** Closes the connection from the server side; the client is not expected to reconnect by itself. */
  close(reason: string): void;
  /** Bytes queued for this client and not yet written to its socket (slow-consumer detection). */
  bufferedBytes(): number;
}

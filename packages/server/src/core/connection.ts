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
}

import type { Connection } from "./connection.js";

/**
 * A core service that wants to know when connections open and close (channels,
 * typing, presence). Transports call every listener in order; a listener that
 * throws is logged and does not stop the others.
 */
export interface ConnectionListener {
  /** `restored`: channels the transport kept across a reconnect (Socket.IO recovery). */
  connected?(connection: Connection, restored: readonly string[]): Promise<void>;
  disconnected?(connection: Connection): Promise<void>;
}

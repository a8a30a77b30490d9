/** One running typing indicator: a user typing in a conversation. */
export interface TypingEntry {
  tenantId: string;
  userId: string;
  conversationId: string;
  /** Shown in `typing:stop`. */
  name: string;
  /** Who is told (the conversation's participants when typing started). */
  participants: string[];
  /** The connection that last started it; its closing ends the indicator. */
  connectionId?: string;
}

/**
 * Running typing indicators, never stored durably. Each indicator has a
 * deadline; whoever ends it (a stop, the typist's connection closing, or the
 * deadline passing) gets the entry back exactly once, so `typing:stop` is
 * announced once. With a shared driver (Redis) every node sweeps deadlines, so
 * an indicator whose typist's node crashed still stops on time.
 *
 * Contract: every method is atomic on its own; all may reject with
 * `DependencyUnavailableError`.
 */
export interface TypingStore {
  /** Pushes a running indicator's deadline to `until` (and records the connection); false when none runs. */
  refresh(tenantId: string, userId: string, conversationId: string, until: number, connectionId?: string): Promise<boolean>;
  /** Starts an indicator until `until`; false when one already runs (it is refreshed instead). */
  start(entry: TypingEntry, until: number): Promise<boolean>;
  /** Ends an indicator; resolves with it when it was running. */
  stop(tenantId: string, userId: string, conversationId: string): Promise<TypingEntry | undefined>;
  /** Ends every indicator last started from this connection. */
  stopConnection(tenantId: string, connectionId: string): Promise<TypingEntry[]>;
  /** Ends and returns the indicators whose deadline passed before `now` (ms). */
  takeExpired(now: number): Promise<TypingEntry[]>;
}

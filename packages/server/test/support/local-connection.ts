import type { Caller } from "../../src/auth/caller.js";
import type { Connection } from "../../src/core/connection.js";

/** A connection as a transport would hand it to the core, without a wire. */
export function localConnection(id: string, caller: Caller): Connection {
  const subscribed = new Set<string>();
  return {
    id,
    caller,
    subscribe: (c) => void subscribed.add(c),
    unsubscribe: (c) => void subscribed.delete(c),
    channels: () => subscribed,
    isSubscribed: (c) => subscribed.has(c),
    notify: () => {},
    close: () => {},
    bufferedBytes: () => 0,
  };
}

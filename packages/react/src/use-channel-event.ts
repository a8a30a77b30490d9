import { useEffect, useRef } from "react";
import { useSwitchboard } from "./context.js";

/**
 * Calls `handler` for each `event` published to `channel` while mounted
 * (joining the channel; the latest handler is used without resubscribing).
 * `onError` hears a refused join (e.g. `forbidden`); before the first
 * connection the join simply waits for it.
 */
export function useChannelEvent<T = unknown>(channel: string | undefined, event: string, handler: (data: T) => void, onError?: (error: Error) => void): void {
  const client = useSwitchboard();
  const handlerRef = useRef(handler);
  const errorRef = useRef(onError);
  handlerRef.current = handler;
  errorRef.current = onError;

  useEffect(() => {
    if (!channel) return;
    const stop = client.channels.on<T>(channel, event, (data) => handlerRef.current(data));
    // `unavailable`: not connected yet; the channel is joined once the connection is up.
    stop.joined.catch((err: Error & { code?: string }) => err.code !== "unavailable" && errorRef.current?.(err));
    return stop;
  }, [client, channel, event]);
}

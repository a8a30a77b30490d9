import { useEffect, useRef } from "react";
import { useSwitchboard } from "./context.js";

/**
 * Calls `handler` for each `event` published to `channel` while mounted
 * (joining the channel; the latest handler is used without resubscribing).
 * `onError` hears a refused join (e.g. `forbidden`).
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
    stop.joined.catch((err: Error) => errorRef.current?.(err));
    return stop;
  }, [client, channel, event]);
}

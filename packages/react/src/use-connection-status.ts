import { useCallback, useSyncExternalStore } from "react";
import type { ConnectionStatus } from "@switchboard/client";
import { useSwitchboard } from "./context.js";

/** The connection status: `connecting`, `connected`, `reconnecting` or `offline`. */
export function useConnectionStatus(): ConnectionStatus {
  const client = useSwitchboard();
  const subscribe = useCallback((onChange: () => void) => client.onStatus(onChange), [client]);
  return useSyncExternalStore(subscribe, () => client.status, () => client.status);
}

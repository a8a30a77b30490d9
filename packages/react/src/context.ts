import { createContext, useContext } from "react";
import type { SwitchboardClient } from "@switchboard/client";

export const SwitchboardContext = createContext<SwitchboardClient | null>(null);

/** The client given to the nearest `SwitchboardProvider`. */
export function useSwitchboard(): SwitchboardClient {
  const client = useContext(SwitchboardContext);
  if (!client) throw new Error("useSwitchboard: no <SwitchboardProvider> above this component");
  return client;
}

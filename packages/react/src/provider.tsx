import { useEffect, useState, type ReactNode } from "react";
import { createClient, type ClientOptions, type SwitchboardClient } from "@switchboard/client";
import { SwitchboardContext } from "./context.js";

export type SwitchboardProviderProps =
  | { client: SwitchboardClient; options?: never; children?: ReactNode }
  | { options: ClientOptions; client?: never; children?: ReactNode };

/**
 * Makes a Switchboard client available to the hooks below it. Pass a client
 * you created (and own), or `options` and the provider creates one and
 * closes it on unmount.
 *
 * @example
 * <SwitchboardProvider options={{ url, getToken }}><App /></SwitchboardProvider>
 */
export function SwitchboardProvider(props: SwitchboardProviderProps): ReactNode {
  const [owned] = useState(() => (props.client ? null : createClient(props.options!)));
  useEffect(() => () => owned?.close(), [owned]);
  return <SwitchboardContext.Provider value={props.client ?? owned}>{props.children}</SwitchboardContext.Provider>;
}

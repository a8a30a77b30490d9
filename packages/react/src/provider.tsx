import { useLayoutEffect, useState, type ReactNode } from "react";
import { createClient, type ClientOptions, type SwitchboardClient } from "@switchboard/client";
import { SwitchboardContext } from "./context.js";

export type SwitchboardProviderProps =
  | { client: SwitchboardClient; options?: never; children?: ReactNode }
  | { options: ClientOptions; client?: never; children?: ReactNode };

/**
 * Makes a Switchboard client available to the hooks below it. Pass a client
 * you created (and own), or `options`: the provider then creates one when
 * first rendered, connects it while mounted and disconnects it on unmount
 * (StrictMode's trial unmount included, after which it connects again).
 * Later changes to `options` are ignored; remount (e.g. with a `key`) to
 * switch users.
 *
 * @example
 * <SwitchboardProvider options={{ url, getToken }}><App /></SwitchboardProvider>
 */
export function SwitchboardProvider(props: SwitchboardProviderProps): ReactNode {
  const [owned] = useState(() => (props.client ? null : createClient({ ...props.options!, autoConnect: false })));
  const autoConnect = props.options?.autoConnect !== false;
  // A layout effect runs before every passive effect of the tree, so the
  // children's mount effects (first requests, subscriptions) already find the
  // client connecting, also after StrictMode's trial unmount; requests wait
  // for the connection, but fail at once on a client that was disconnected.
  useLayoutEffect(() => {
    if (!owned) return;
    if (autoConnect) owned.connect();
    return () => owned.disconnect();
  }, [owned, autoConnect]);
  return <SwitchboardContext.Provider value={props.client ?? owned}>{props.children}</SwitchboardContext.Provider>;
}

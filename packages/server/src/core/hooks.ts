import type { Caller } from "../auth/caller.js";

/** What an authorization hook is asked about. */
export interface AuthorizeChannelPayload {
  caller: Caller;
  /** Full name, e.g. `patient:42`. */
  channel: string;
  kind: string;
  id: string;
}

/**
 * Extension hooks, in the style of hocuspocus: one object of optional async
 * functions, run in the order given. For `onAuthorizeChannel`, the first hook
 * that returns a boolean decides; `undefined` passes to the next; a throw denies.
 * With no hook deciding, app-defined channels are denied.
 *
 * @example
 * createServer({ hooks: [{ onAuthorizeChannel: ({ caller, kind }) => kind === "patient" && caller.roles.includes("provider") }] })
 */
export interface SwitchboardHooks {
  onAuthorizeChannel?(payload: AuthorizeChannelPayload): Promise<boolean | undefined> | boolean | undefined;
}

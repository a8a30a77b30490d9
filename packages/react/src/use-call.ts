import { useSyncExternalStore } from "react";
import type { Call, CallSnapshot } from "@switchboard/client";
import { useSwitchboard } from "./context.js";

export interface UseCallResult extends CallSnapshot {
  /** Calls one user (or several); resolves once ringing. */
  start(calleeIds: string | string[], media?: "audio" | "video", conversationId?: string): Promise<Call>;
  accept(): Promise<void>;
  reject(reason?: string): Promise<void>;
  end(): Promise<void>;
  /** Clears an ended call back to `idle`. */
  reset(): void;
}

/**
 * This device's call: `phase` (`idle`, `outgoing`, `incoming`, `connecting`,
 * `connected`, `ended`), the call, local and remote media streams, and the
 * actions. WebRTC offer/answer/ICE go through Switchboard's signal relay;
 * attach `remoteStream` to a `<video>`/`<audio>` element's `srcObject`.
 */
export function useCall(): UseCallResult {
  const session = useSwitchboard().callSession;
  const snapshot = useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot);
  return {
    ...snapshot,
    start: (calleeIds, media, conversationId) => session.start(calleeIds, media, conversationId),
    accept: () => session.accept(),
    reject: (reason) => session.reject(reason),
    end: () => session.end(),
    reset: () => session.reset(),
  };
}

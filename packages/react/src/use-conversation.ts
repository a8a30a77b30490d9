import { useEffect, useMemo, useSyncExternalStore } from "react";
import type { ConversationSnapshot, Message } from "@switchboard/client";
import { useSwitchboard } from "./context.js";

export interface UseConversationResult extends ConversationSnapshot {
  /** Sends (queued while offline); resolves with the stored message. */
  send(body: string, options?: { replyTo?: string }): Promise<Message>;
  /** Marks read up to `upToSeq` (default: the newest loaded message). */
  markRead(upToSeq?: number): Promise<{ unreadCount: number }>;
  /** Call on each keystroke; sends typing:start/stop at a sensible pace. */
  typing(): void;
  stopTyping(): void;
  loadOlder(): Promise<void>;
  /** Sends a failed pending message again / drops it. */
  retry(clientMessageId: string): Promise<Message>;
  discard(clientMessageId: string): void;
}

/**
 * One conversation, live: messages (gapless, in seq order, each once), this
 * client's pending sends, who is typing and read receipts. Loads the newest
 * page on mount; pass `undefined` to render nothing yet.
 */
export function useConversation(conversationId: string | undefined): UseConversationResult | undefined {
  const client = useSwitchboard();
  const view = useMemo(() => (conversationId ? client.chat.conversation(conversationId) : undefined), [client, conversationId]);
  const subscribe = useMemo(() => (view ? view.subscribe : () => () => {}), [view]);
  const snapshot = useSyncExternalStore(subscribe, () => view?.getSnapshot(), () => view?.getSnapshot());
  useEffect(() => {
    void view?.load();
  }, [view]);
  return useMemo(() => {
    if (!view || !snapshot) return undefined;
    return {
      ...snapshot,
      send: (body: string, options?: { replyTo?: string }) => view.send(body, options),
      markRead: (upToSeq?: number) => view.markRead(upToSeq),
      typing: () => view.typing(),
      stopTyping: () => view.stopTyping(),
      loadOlder: () => view.loadOlder(),
      retry: (id: string) => client.chat.retry(id),
      discard: (id: string) => client.chat.discard(id),
    };
  }, [client, view, snapshot]);
}

import { useCallback, useEffect, useRef, useState } from "react";
import type { ConversationSummary, SwitchboardError } from "@switchboard/client";
import { useSwitchboard } from "./context.js";

export interface UseConversationsResult {
  /** Most recent activity first, with `lastMessage` and `unreadCount`. */
  conversations: readonly ConversationSummary[];
  loading: boolean;
  error: SwitchboardError | null;
  /** Re-reads the list from the server. */
  refresh(): Promise<void>;
}

/**
 * The caller's conversations, kept current: new messages move a conversation
 * to the top (and count as unread when from someone else), an edited or
 * deleted last message changes its preview (a deletion re-reads the unread
 * counts), added and removed conversations appear and vanish, and the list is
 * re-read after a reconnect.
 */
export function useConversations(options: { limit?: number } = {}): UseConversationsResult {
  const client = useSwitchboard();
  const [conversations, setConversations] = useState<readonly ConversationSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<SwitchboardError | null>(null);
  const limit = options.limit;
  const alive = useRef(true);
  const failed = useRef(false);
  /** The list as last rendered, for listeners deciding whether to re-read it. */
  const shown = useRef(conversations);
  shown.current = conversations;

  const refresh = useCallback(async () => {
    try {
      const list = await client.chat.listConversations(limit === undefined ? {} : { limit });
      failed.current = false;
      if (!alive.current) return;
      setConversations(list);
      setError(null);
    } catch (err) {
      failed.current = true;
      if (alive.current) setError(err as SwitchboardError);
    } finally {
      if (alive.current) setLoading(false);
    }
  }, [client, limit]);

  useEffect(() => {
    alive.current = true;
    void refresh();
    const offs = [
      client.chat.on("message:new", ({ message }) => {
        const me = client.session?.userId;
        setConversations((list) => {
          const current = list.find((c) => c.id === message.conversationId);
          if (!current) {
            void refresh();
            return list;
          }
          if (message.seq <= (current.lastMessage?.seq ?? 0)) return list;
          const unread = message.senderId === me ? current.unreadCount : current.unreadCount + 1;
          const updated = { ...current, lastMessage: message, lastSeq: message.seq, lastActivityAt: message.createdAt, unreadCount: unread };
          return [updated, ...list.filter((c) => c.id !== message.conversationId)];
        });
      }),
      // An edit or deletion of a conversation's last message shows in its preview; a deleted
      // message may have been unread, and only the server knows the caller's read position.
      client.chat.onMessageChange((change) => {
        const messageId = change.kind === "updated" ? change.message.id : change.messageId;
        setConversations((list) => {
          const current = list.find((c) => c.lastMessage?.id === messageId);
          if (!current?.lastMessage) return list;
          const lastMessage = change.kind === "updated" ? change.message : { ...current.lastMessage, body: "", deletedAt: current.lastMessage.deletedAt ?? new Date().toISOString() };
          return list.map((c) => (c === current ? { ...c, lastMessage } : c));
        });
        if (change.kind === "deleted" && shown.current.some((c) => c.id === change.conversationId && c.unreadCount > 0)) void refresh();
      }),
      // A read made by this client: the server answers it, and tells only the user's other devices.
      client.chat.onUnreadChange((conversationId, unreadCount) =>
        setConversations((list) => (list.some((c) => c.id === conversationId && c.unreadCount !== unreadCount) ? list.map((c) => (c.id === conversationId ? { ...c, unreadCount } : c)) : list)),
      ),
      client.chat.on("message:read", (event) => {
        if (event.userId !== client.session?.userId) return;
        // Our own read on another device: the exact count comes from the server.
        void refresh();
      }),
      client.chat.on("conversation:new", () => void refresh()),
      client.chat.on("conversation:updated", () => void refresh()),
      client.chat.on("conversation:removed", ({ conversationId }) => setConversations((list) => list.filter((c) => c.id !== conversationId))),
      client.onConnection("resync", () => void refresh()),
      // The first read fails when the connection took longer than a request may wait.
      client.onConnection("connected", (_event, reconnect) => {
        if (!reconnect && failed.current) void refresh();
      }),
    ];
    return () => {
      alive.current = false;
      for (const off of offs) off();
    };
  }, [client, refresh]);

  return { conversations, loading, error, refresh };
}

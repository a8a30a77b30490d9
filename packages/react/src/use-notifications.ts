import { useEffect, useSyncExternalStore } from "react";
import type { NotificationsSnapshot } from "@switchboard/client";
import { useSwitchboard } from "./context.js";

export interface UseNotificationsResult extends NotificationsSnapshot {
  markRead(id: string): Promise<number>;
  markAllRead(): Promise<void>;
  loadMore(): Promise<void>;
}

/** The notification centre: newest first, the unread count, live updates, re-read after reconnects. */
export function useNotifications(): UseNotificationsResult {
  const client = useSwitchboard();
  const feed = client.notifications;
  const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot, feed.getSnapshot);
  useEffect(() => {
    void feed.start();
  }, [feed]);
  return {
    ...snapshot,
    markRead: (id) => feed.markRead(id),
    markAllRead: () => feed.markAllRead(),
    loadMore: () => feed.loadMore(),
  };
}

import { useEffect, useState } from "react";
import { useNotifications, useSwitchboard } from "@switchboard/react";
import type { Notification } from "@switchboard/protocol";
import { NotificationBell } from "./components/NotificationBell.js";
import { Toasts } from "./components/Toasts.js";

const TOAST_MS = 12_000;

/** The bell (useNotifications) and a toast for each live `high` or `critical` notification. */
export function Notifications() {
  const client = useSwitchboard();
  const feed = useNotifications();
  const [toasts, setToasts] = useState<Notification[]>([]);

  useEffect(
    () =>
      client.notifications.on("notification:new", ({ notification }) => {
        if (notification.priority !== "high" && notification.priority !== "critical") return;
        setToasts((list) => [notification, ...list.filter((n) => n.id !== notification.id)].slice(0, 3));
        // Critical ones stay until dismissed.
        if (notification.priority === "high") setTimeout(() => setToasts((list) => list.filter((n) => n.id !== notification.id)), TOAST_MS);
      }),
    [client],
  );

  return (
    <>
      <NotificationBell
        unreadCount={feed.unreadCount}
        notifications={feed.notifications}
        onRead={(id) => void feed.markRead(id).catch(() => {})}
        onReadAll={() => void feed.markAllRead().catch(() => {})}
      />
      <Toasts items={toasts} onDismiss={(id) => setToasts((list) => list.filter((n) => n.id !== id))} />
    </>
  );
}

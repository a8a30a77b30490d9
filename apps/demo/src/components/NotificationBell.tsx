import { useState } from "react";
import type { Notification } from "@switchboard/protocol";
import { BellIcon } from "./Icons.js";

export interface NotificationBellProps {
  unreadCount: number;
  notifications: readonly Notification[];
  onRead(id: string): void;
  onReadAll(): void;
}

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });

/** The bell with its unread badge and a dropdown of recent notifications. */
export function NotificationBell({ unreadCount, notifications, onRead, onReadAll }: NotificationBellProps) {
  const [open, setOpen] = useState(false);
  return (
    <div className="bell-wrap">
      <button type="button" className="icon-button" aria-label={`Notifications, ${unreadCount} unread`} onClick={() => setOpen(!open)} data-testid="bell">
        <BellIcon />
        {unreadCount > 0 && (
          <span className="badge" data-testid="unread-badge">
            {unreadCount > 99 ? "99+" : unreadCount}
          </span>
        )}
      </button>
      {open && (
        <div className="dropdown" data-testid="notification-list">
          <div className="dropdown-head">
            <span>Notifications</span>
            <button type="button" className="button ghost" onClick={onReadAll} disabled={unreadCount === 0}>
              Mark all read
            </button>
          </div>
          {notifications.length === 0 && <p className="empty">Nothing yet.</p>}
          {notifications.map((n) => (
            <div key={n.id} className={n.readAt ? "notification" : "notification unread"} onClick={() => !n.readAt && onRead(n.id)}>
              <span className="title">
                {n.title}
                {n.priority !== "normal" && (
                  <span className="priority" data-priority={n.priority}>
                    {n.priority}
                  </span>
                )}
              </span>
              {n.body && <span className="muted">{n.body}</span>}
              <small className="muted">{when(n.createdAt)}</small>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

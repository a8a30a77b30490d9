import type { Notification } from "@switchboard/protocol";

/** Pop-ups for `high` and `critical` notifications, until dismissed. */
export function Toasts({ items, onDismiss }: { items: Notification[]; onDismiss: (id: string) => void }) {
  if (!items.length) return null;
  return (
    <div className="toasts" aria-live="assertive">
      {items.map((n) => (
        <div key={n.id} className="toast" data-priority={n.priority} data-testid="toast" role="alert">
          <div className="toast-head">
            <span>{n.title}</span>
            <button type="button" className="button ghost" onClick={() => onDismiss(n.id)} aria-label="Dismiss">
              ×
            </button>
          </div>
          {n.body && <span className="muted">{n.body}</span>}
          <span className="priority" data-priority={n.priority}>
            {n.priority}
          </span>
        </div>
      ))}
    </div>
  );
}

const LABEL: Record<string, string> = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  disconnected: "Offline",
  unauthorized: "Signed out",
};

/** The socket's state, always visible in the top bar. */
export function ConnectionBadge({ status }: { status: string }) {
  return (
    <span className="connection" data-status={status} data-testid="connection" role="status">
      {LABEL[status] ?? status}
    </span>
  );
}

import type { PresenceStatus } from "@switchboard/protocol";
import { initials } from "../initials.js";

const STATUS_LABEL: Record<PresenceStatus, string> = { online: "Online", away: "Away", busy: "Busy", in_call: "In a call", offline: "Offline" };

export function statusLabel(status: PresenceStatus | undefined): string {
  return STATUS_LABEL[status ?? "offline"];
}

/** Initials with a presence dot; `status` undefined shows no dot. */
export function Avatar({ name, status, small }: { name: string; status?: PresenceStatus; small?: boolean }) {
  return (
    <span className={small ? "avatar small" : "avatar"}>
      {initials(name)}
      {status && <span className="presence-dot" data-status={status} title={statusLabel(status)} data-testid="presence-dot" />}
    </span>
  );
}

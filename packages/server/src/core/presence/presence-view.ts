import type { CustomStatus, PresenceInfo, PresenceStatus } from "@switchboard/protocol";
import type { PresenceRecord } from "../../ports/presence-records.js";
import type { LiveUserState } from "../../ports/presence-store.js";

/**
 * The status others see, from what the user chose and their live state. Order
 * of precedence: no connection, or "appear offline", reads `offline` (privacy
 * first); a call reads `in_call`; a chosen `away` / `busy` wins over the automatic
 * status; otherwise `away` when every device is idle, else `online`.
 */
export function effectiveStatus(record: PresenceRecord | undefined, live: LiveUserState | undefined): PresenceStatus {
  if (!live || live.connections.length === 0) return "offline";
  const chosen = record?.status ?? "online";
  if (chosen === "offline") return "offline";
  if (live.inCall) return "in_call";
  if (chosen !== "online") return chosen;
  return live.connections.every((c) => c.idle) ? "away" : "online";
}

/** One user's presence as it goes on the wire. A user never seen reads offline, lastSeen null. */
export function presenceInfo(userId: string, record: PresenceRecord | undefined, live: LiveUserState | undefined): PresenceInfo {
  return { userId, status: effectiveStatus(record, live), lastSeen: record?.lastSeen ?? null, custom: record?.custom ?? null };
}

/** True when subscribers would see no difference, so there is nothing to announce. */
export function samePresence(a: PresenceInfo, b: PresenceInfo): boolean {
  return a.status === b.status && a.lastSeen === b.lastSeen && sameCustom(a.custom, b.custom);
}

function sameCustom(a: CustomStatus | null, b: CustomStatus | null): boolean {
  if (a === null || b === null) return a === b;
  return a.text === b.text && a.mood?.value === b.mood?.value && a.mood?.label === b.mood?.label;
}

/** A custom status keeping only set fields; one with none is no custom status. */
export function normalizeCustom(custom: CustomStatus | null): CustomStatus | null {
  if (custom === null) return null;
  const result: CustomStatus = {};
  if (custom.text !== undefined) result.text = custom.text;
  if (custom.mood !== undefined) result.mood = { value: custom.mood.value, label: custom.mood.label };
  return result.text === undefined && result.mood === undefined ? null : result;
}

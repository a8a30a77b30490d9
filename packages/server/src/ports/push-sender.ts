import type { PushSubscription } from "./notification-store.js";

/** What a push message may carry: never message text beyond the title, never health details. */
export interface PushPayload {
  notificationId: string;
  type: string;
  title: string;
  priority: string;
}

/**
 * Delivers a Web Push message to one browser subscription.
 *
 * Contract: resolves with the push service's HTTP status; `gone` means the
 * subscription no longer exists (404/410) and should be forgotten. Rejects only
 * when the push service could not be reached.
 */
export interface PushSender {
  send(subscription: PushSubscription, payload: PushPayload, urgency: "normal" | "high"): Promise<{ status: number; gone: boolean }>;
}

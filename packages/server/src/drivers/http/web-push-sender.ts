import webpush from "web-push";
import type { PushSubscription } from "../../ports/notification-store.js";
import type { PushPayload, PushSender } from "../../ports/push-sender.js";

export interface VapidKeys {
  subject: string;
  publicKey: string;
  privateKey: string;
}

/**
 * Web Push through the `web-push` package: it signs the VAPID header and
 * encrypts the payload (RFC 8291); the request itself goes out with fetch, so
 * any push service URL works, http included (local test services).
 */
export class WebPushSender implements PushSender {
  constructor(
    private readonly vapid: VapidKeys,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(subscription: PushSubscription, payload: PushPayload, urgency: "normal" | "high"): Promise<{ status: number; gone: boolean }> {
    const details = webpush.generateRequestDetails(subscription, JSON.stringify(payload), {
      vapidDetails: this.vapid,
      TTL: 24 * 3600,
      urgency,
    });
    const response = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: details.body ?? undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    return { status: response.status, gone: response.status === 404 || response.status === 410 };
  }
}

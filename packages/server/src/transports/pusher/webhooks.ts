import type { Logger } from "pino";
import type { PusherApp } from "../../config/config.js";
import type { PusherApps } from "./pusher-apps.js";
import { hmacHex } from "./signatures.js";

/** One webhook event in Pusher's format. */
export type PusherWebhookEvent =
  | { name: "channel_occupied" | "channel_vacated"; channel: string }
  | { name: "member_added" | "member_removed"; channel: string; user_id: string }
  | { name: "client_event"; channel: string; event: string; data: string; socket_id: string; user_id?: string };

const TIMEOUT_MS = 5000;

/**
 * Sends Pusher-format webhooks (`{ time_ms, events: [...] }`) to
 * `PUSHER_WEBHOOK_URL`, one request per event, for every Pusher app of the
 * event's tenant, signed with that app's credentials: `X-Pusher-Key` and
 * `X-Pusher-Signature` (hex HMAC-SHA256 of the body with the app secret).
 * Callers invoke it on the node where a transition happened, so each event is
 * sent once. Delivery is best effort: a failure is logged, never retried.
 */
export class PusherWebhooks {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string | undefined,
    private readonly apps: PusherApps,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.url !== undefined;
  }

  send(tenantId: string, event: PusherWebhookEvent): void {
    if (!this.url) return;
    for (const app of this.apps.ofTenant(tenantId)) {
      const sending = this.post(this.url, app, event);
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }
  }

  /** Waits for webhooks already on their way (server stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async post(url: string, app: PusherApp, event: PusherWebhookEvent): Promise<void> {
    const body = JSON.stringify({ time_ms: Date.now(), events: [event] });
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pusher-key": app.key, "x-pusher-signature": hmacHex(app.secret, body) },
        body,
        // Not followed: the signed body stays with the configured receiver.
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) this.logger.warn({ status: res.status, event: event.name, appId: app.appId }, "pusher webhook refused");
      await res.body?.cancel();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, event: event.name, appId: app.appId }, "pusher webhook failed");
    }
  }
}

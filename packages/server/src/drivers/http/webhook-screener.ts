import { z } from "zod";
import { SCREEN_CATEGORIES, SCREEN_SEVERITIES, type ScreenInput } from "../../ports/screener.js";
import type { AppScreenResult, NamedScreenerHook } from "../../core/moderation/composite-screener.js";
import { signWebhook } from "../../core/webhooks/webhook-signature.js";

export interface WebhookScreenerOptions {
  url: string;
  /** Name in logs and `unavailable`; defaults to `webhook`. */
  name?: string;
  /** Longest wait for the answer, body included (default 1500 ms). */
  timeoutMs?: number;
  /**
   * When set, requests carry `X-Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC>`,
   * the same scheme as outgoing webhooks (check it with `verifyWebhook`).
   */
  secret?: string;
}

const answerSchema = z.object({
  flagged: z.boolean(),
  severity: z.enum(SCREEN_SEVERITIES).optional(),
  category: z.enum(SCREEN_CATEGORIES).optional(),
});

/**
 * An app screener behind HTTP: POSTs `{ tenantId, userId, text, kind, moodScore }`
 * as JSON and expects a 2xx answer `{ flagged, severity?, category? }`; 204 means
 * no opinion. Anything else (unreachable, timeout, non-2xx, malformed JSON)
 * rejects with the reason, which the {@link CompositeScreener} logs before going
 * on with the other screeners: the message is never held up by the app's backend.
 *
 * @example
 * new CompositeScreener({ builtin: new CrisisScreener(), hooks: [webhookScreener({ url: "https://app.example/screen", secret })], logger })
 */
export function webhookScreener(options: WebhookScreenerOptions): NamedScreenerHook {
  const timeoutMs = options.timeoutMs ?? 1500;
  return {
    name: options.name ?? "webhook",
    // The composite's own timer is a backstop a little later than the request's.
    timeoutMs: timeoutMs + 250,
    async screen(input: ScreenInput): Promise<AppScreenResult | undefined> {
      const body = JSON.stringify({ tenantId: input.tenantId, userId: input.userId, text: input.text, kind: input.kind, moodScore: input.moodScore });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.secret) headers["x-switchboard-signature"] = signWebhook(options.secret, body, Math.floor(Date.now() / 1000));
      const signal = AbortSignal.timeout(timeoutMs);
      // A redirect counts as a failure: the signed text must not go to another host.
      const response = await fetch(options.url, { method: "POST", headers, body, redirect: "manual", signal });
      if (response.status === 204) return undefined;
      if (!response.ok) throw new Error(`screening webhook answered ${response.status}`);
      const parsed = answerSchema.safeParse(await response.json().catch(() => null));
      if (!parsed.success) throw new Error("screening webhook answered something other than { flagged, severity?, category? }");
      return parsed.data;
    },
  };
}

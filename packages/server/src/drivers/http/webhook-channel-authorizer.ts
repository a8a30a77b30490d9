import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import { AppError } from "../../core/errors.js";
import type { AuthorizeChannelPayload, SwitchboardHooks } from "../../core/hooks.js";

export interface WebhookAuthorizerOptions {
  url: string;
  timeoutMs: number;
  /** When set, the body is signed: `X-Switchboard-Signature: sha256=<hex HMAC>`. */
  secret?: string;
  logger: Logger;
}

/**
 * Asks the app's backend whether a user may join an app-defined channel.
 * POSTs `{ tenantId, userId, name, roles, channel }`; a 2xx answer with
 * `{ "allow": true }` allows, any other answer denies. A backend that cannot be
 * reached or does not answer in time makes the join fail `unavailable`
 * (safe to retry) rather than a wrong `forbidden`.
 */
export function webhookChannelAuthorizer(options: WebhookAuthorizerOptions): SwitchboardHooks {
  return {
    async onAuthorizeChannel({ caller, channel }: AuthorizeChannelPayload) {
      const body = JSON.stringify({ tenantId: caller.tenantId, userId: caller.userId, name: caller.name, roles: caller.roles, channel });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.secret) headers["x-switchboard-signature"] = `sha256=${createHmac("sha256", options.secret).update(body).digest("hex")}`;
      let response: Response;
      try {
        // Never followed: a redirect would carry the signed request elsewhere and let that host answer.
        response = await fetch(options.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        options.logger.warn({ err: (err as Error).message, channel }, "channel authorization webhook unreachable");
        throw new AppError("unavailable", "channel authorization service did not answer");
      }
      if (response.status >= 500) {
        options.logger.warn({ status: response.status, channel }, "channel authorization webhook failed");
        throw new AppError("unavailable", "channel authorization service failed");
      }
      if (!response.ok) return false;
      const answer = (await response.json().catch(() => null)) as { allow?: unknown } | null;
      return answer?.allow === true;
    },
  };
}

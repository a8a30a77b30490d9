import type { ErrorCode, NotificationCreatePayload, PresenceInfo } from "@switchboard/protocol";
import type { SwitchboardBackend, UserOnline } from "./backend.js";

/** A refused or failed call: the server's error code, message and HTTP status. */
export class SwitchboardApiError extends Error {
  constructor(
    readonly code: ErrorCode | "network",
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "SwitchboardApiError";
  }
}

export interface SwitchboardApiOptions {
  /** Base URL, e.g. `https://rt.example.com`. */
  url: string;
  /** A tenant's API key (`API_KEYS` or `switchboard keys create`). */
  apiKey: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/**
 * Server SDK over HTTP for backend code in another process: publish events,
 * create notifications, read presence. Every call is scoped to the API key's
 * tenant.
 *
 * @example
 * const sb = new SwitchboardApi({ url: "http://localhost:3000", apiKey: process.env.SWITCHBOARD_KEY! });
 * await sb.publish("user:42", "mood_update", { score: 2 });
 */
export class SwitchboardApi implements SwitchboardBackend {
  constructor(private readonly options: SwitchboardApiOptions) {}

  publish(channel: string | string[], event: string, data?: unknown): Promise<{ channels: string[]; event: string }> {
    return this.call("POST", "/v1/events", { ...(Array.isArray(channel) ? { channels: channel } : { channel }), event, data });
  }

  notify(notification: NotificationCreatePayload): Promise<{ created: number; notificationIds: string[] }> {
    return this.call("POST", "/v1/notifications", notification);
  }

  async presence(userIds: string[]): Promise<PresenceInfo[]> {
    const { presence } = await this.call<{ presence: PresenceInfo[] }>("GET", `/v1/presence?userIds=${userIds.map(encodeURIComponent).join(",")}`);
    return presence;
  }

  isOnline(userId: string): Promise<UserOnline> {
    return this.call("GET", `/v1/users/${encodeURIComponent(userId)}/online`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.url), {
        method,
        headers: { authorization: `Bearer ${this.options.apiKey}`, ...(body !== undefined && { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new SwitchboardApiError("network", `Switchboard unreachable: ${(err as Error).message}`, 0);
    }
    const payload = (await response.json().catch(() => null)) as { error?: { code: ErrorCode; message: string; details?: unknown } } | null;
    if (!response.ok) {
      const error = payload?.error;
      throw new SwitchboardApiError(error?.code ?? "internal", error?.message ?? `HTTP ${response.status}`, response.status, error?.details);
    }
    return payload as T;
  }
}

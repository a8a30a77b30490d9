import type { NotificationCreatePayload, PresenceInfo } from "@switchboard/protocol";
import type { UserOnline } from "../core/presence/presence-service.js";

export type { UserOnline } from "../core/presence/presence-service.js";

/**
 * What an app's backend does with Switchboard, scoped to one tenant. The same
 * methods in two forms: {@link SwitchboardApi} (HTTP, from any Node process,
 * with an API key) and `server.forTenant(tenantId)` (library mode, in-process).
 *
 * @example
 * await backend.publish("tenant:acme", "appointment:created", { id: 7 });
 * await backend.notify({ userIds: ["42"], type: "lab", title: "Results ready", priority: "high" });
 */
export interface SwitchboardBackend {
  publish(channel: string | string[], event: string, data?: unknown): Promise<{ channels: string[]; event: string }>;
  notify(notification: NotificationCreatePayload): Promise<{ created: number; notificationIds: string[] }>;
  presence(userIds: string[]): Promise<PresenceInfo[]>;
  isOnline(userId: string): Promise<UserOnline>;
}

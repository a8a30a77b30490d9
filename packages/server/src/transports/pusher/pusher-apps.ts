import type { PusherApp } from "../../config/config.js";

/** The configured Pusher apps, looked up by key (WebSocket), id (HTTP API) or tenant (webhooks, auth helper). */
export class PusherApps {
  private readonly byKey = new Map<string, PusherApp>();
  private readonly byId = new Map<string, PusherApp>();

  constructor(apps: readonly PusherApp[]) {
    for (const app of apps) {
      this.byKey.set(app.key, app);
      this.byId.set(app.appId, app);
    }
  }

  withKey(key: string): PusherApp | undefined {
    return this.byKey.get(key);
  }

  withId(appId: string): PusherApp | undefined {
    return this.byId.get(appId);
  }

  ofTenant(tenantId: string): PusherApp[] {
    return [...this.byId.values()].filter((app) => app.tenantId === tenantId);
  }
}

import { createClient, type ClientOptions, type ConnectionStatus, type SwitchboardClient } from "@switchboard/client";
import type { TokenClaims } from "@switchboard/server";
import { onCleanup, type TestServer } from "../../../server/test/support/server-harness.js";

/** Creates an SDK client for a user of a test server (websocket only, fast backoff); closed after the test. */
export async function sdkClient(server: TestServer, claims: TokenClaims, options: Partial<ClientOptions> = {}): Promise<SwitchboardClient> {
  const client = createClient({
    url: server.url,
    ...(options.getToken ? {} : { token: await server.token(claims) }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    requestTimeoutMs: 5_000,
    ...options,
    socket: { transports: ["websocket"], ...options.socket },
  });
  onCleanup(async () => client.close());
  return client;
}

/** Records every status a client goes through. */
export function statuses(client: SwitchboardClient): ConnectionStatus[] {
  const seen: ConnectionStatus[] = [client.status];
  client.onStatus((s) => seen.push(s));
  return seen;
}

/** Polls until `check` is true (or throws after `ms`). */
export async function until(check: () => boolean, ms = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with the next status equal to `status`. */
export function nextStatus(client: SwitchboardClient, status: ConnectionStatus, ms = 5_000): Promise<void> {
  if (client.status === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`status never became ${status} (is ${client.status})`)), ms);
    const off = client.onStatus((s) => {
      if (s !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createClient, type ClientOptions, type ConnectionStatus, type SwitchboardClient } from "@switchboard/client";
import { createServer, loadConfig, type ServerOptions, type TokenClaims } from "@switchboard/server";
import { onCleanup, TEST_SECRET, testDb, type TestServer } from "../../../server/test/support/server-harness.js";

/** What SDK tests need of a server. */
export type SdkServer = Pick<TestServer, "server" | "url" | "token">;

/**
 * One real server for all tests of a file (started before the first, stopped
 * after the last), for suites whose tests are independent by user ids: a
 * server start costs seconds. Tests needing their own settings use `startServer`.
 */
export function sharedServer(options: { env?: Record<string, string> } & Omit<ServerOptions, "config"> = {}): () => SdkServer {
  let shared: SdkServer | undefined;
  let dropSchema: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const { env, ...rest } = options;
    let database: Record<string, string> = { DATA_DIR: ":memory:" };
    if (testDb === "postgres") {
      const url = process.env.DATABASE_URL!;
      const schema = `t_${randomBytes(6).toString("hex")}`;
      database = { DATABASE_URL: url, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: "4" };
      dropSchema = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      };
    }
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", ...database, ...env });
    const server = await createServer({ config, ...rest });
    await server.listen();
    shared = { server, url: server.url, token: (claims, expiresIn) => server.signToken(claims, expiresIn) };
  }, 60_000);
  afterAll(async () => {
    await shared?.server.stop();
    await dropSchema?.();
  });
  return () => {
    if (!shared) throw new Error("sharedServer: used outside a test");
    return shared;
  };
}

/** Creates an SDK client for a user of a test server (fast backoff); closed after the test. */
export async function sdkClient(server: SdkServer, claims: TokenClaims, options: Partial<ClientOptions> = {}): Promise<SwitchboardClient> {
  const client = createClient({
    url: server.url,
    ...(options.getToken ? {} : { token: await server.token(claims) }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    requestTimeoutMs: 5_000,
    ...options,
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
export async function until(check: () => boolean | Promise<boolean>, ms = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
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

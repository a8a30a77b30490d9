import { randomBytes } from "node:crypto";
import { afterEach } from "vitest";
import pg from "pg";
import { io, type Socket } from "socket.io-client";
import type { ConnectedEvent } from "@switchboard/protocol";
import { createServer, loadConfig, type ServerOptions, type SwitchboardServer, type TokenClaims } from "@switchboard/server";

export const TEST_SECRET = "test-secret-0123456789abcdef-0123456789";

/** Which database this test project runs on (set per vitest project). */
export const testDb = process.env.SWITCHBOARD_TEST_DB === "postgres" ? "postgres" : "pglite";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

/** Registers a cleanup to run after the current test, latest first. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/**
 * Database settings for one server: a fresh Postgres schema (dropped after the
 * test) in the Postgres project, an in-memory PGlite otherwise.
 */
export function databaseEnv(): Record<string, string> {
  if (testDb !== "postgres") return { DATA_DIR: ":memory:" };
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("the postgres test project needs DATABASE_URL");
  const schema = `t_${randomBytes(6).toString("hex")}`;
  onCleanup(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });
  return { DATABASE_URL: url, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: "4" };
}

export interface TestServer {
  server: SwitchboardServer;
  url: string;
  token(claims: TokenClaims, expiresIn?: string | number): Promise<string>;
  /** Connects a socket.io client and waits for `connected`. */
  connect(claims: TokenClaims | string, options?: Parameters<typeof io>[1]): Promise<{ socket: Socket; connected: ConnectedEvent }>;
}

/** Starts a real server on port 0 with test settings; stopped after the test. */
export async function startServer(options: { env?: Record<string, string> } & Omit<ServerOptions, "config"> = {}): Promise<TestServer> {
  const { env, ...rest } = options;
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", ...databaseEnv(), ...env });
  const server = await createServer({ config, ...rest });
  await server.listen();
  onCleanup(() => server.stop());
  return {
    server,
    url: server.url,
    token: (claims, expiresIn) => server.signToken(claims, expiresIn),
    async connect(claims, socketOptions) {
      const token = typeof claims === "string" ? claims : await server.signToken(claims);
      const socket = io(server.url, { auth: { token }, transports: ["websocket"], forceNew: true, reconnection: false, ...socketOptions });
      onCleanup(async () => void socket.disconnect());
      const connected = await new Promise<ConnectedEvent>((resolve, reject) => {
        socket.once("connected", resolve);
        socket.once("connect_error", reject);
      });
      return { socket, connected };
    },
  };
}

/** Opens a client expected to be refused; resolves with the `connect_error`. */
export function connectError(url: string, options: Parameters<typeof io>[1]): Promise<Error & { data?: { code?: string } }> {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, ...options });
  onCleanup(async () => void socket.disconnect());
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected, but a refusal was expected")));
    socket.once("connect_error", resolve);
  });
}

/** Sends a request and resolves with its ack. */
export function request<T = unknown>(socket: Socket, event: string, ...payload: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...payload) as Promise<T>;
}

/** Resolves with the next `event` on `socket`, or rejects after `ms`. */
export function nextEvent<T = unknown>(socket: Socket, event: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const onEvent = (data: T) => {
      clearTimeout(timer);
      resolve(data);
    };
    socket.once(event, onEvent);
  });
}

/** Collects every `event` on `socket` into an array (for asserting that something did not arrive). */
export function collect<T = unknown>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (data: T) => seen.push(data));
  return seen;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

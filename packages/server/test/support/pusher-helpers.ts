import { createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import PusherJs from "pusher-js";
import type { Channel, Options } from "pusher-js";
import PusherServer from "pusher";
import WebSocket from "ws";
import { onCleanup, startServer, type TestServer } from "./server-harness.js";

// pusher-js ships CommonJS with an ES default export; under NodeNext its types see the module object.
type PusherJsClass = typeof PusherJs.default;
const PusherClient = ((PusherJs as unknown as { default?: PusherJsClass }).default ?? PusherJs) as PusherJsClass;
export type PusherClient = InstanceType<PusherJsClass>;

/** The Pusher app every Pusher test uses, in tenant `acme`. */
export const APP = { appId: "1001", key: "app-key", secret: "app-secret-0123456789", tenantId: "acme" } as const;
export const PUSHER_ENV = { PUSHER_APPS: `${APP.appId}:${APP.key}:${APP.secret}:${APP.tenantId}` };

export interface PusherTestServer extends TestServer {
  port: number;
  /** The official `pusher` server library, pointed at this server. */
  backend: PusherServer;
}

/** Starts a server with the test Pusher app; `backend` is the official server library. */
export async function startPusherServer(options: Parameters<typeof startServer>[0] = {}): Promise<PusherTestServer> {
  const started = await startServer({ ...options, env: { ...PUSHER_ENV, ...options.env } });
  const port = Number(new URL(started.url).port);
  return { ...started, port, backend: backendFor(port) };
}

export function backendFor(port: number, secret: string = APP.secret): PusherServer {
  return new PusherServer({ appId: APP.appId, key: APP.key, secret, host: "127.0.0.1", port: String(port), useTLS: false });
}

/** A presence member as the app backend would sign it. */
export interface PresenceData {
  user_id: string;
  user_info?: Record<string, unknown>;
}

/**
 * A connected `pusher-js` client (Node build). Channel authorization is a
 * custom handler calling the official library's `authorizeChannel`, as an app
 * backend would; `presence` is the member it signs for presence channels.
 */
export async function pusherClient(port: number, options: { presence?: PresenceData } & Partial<Options> = {}): Promise<PusherClient> {
  const { presence, ...rest } = options;
  const backend = backendFor(port);
  const client = new PusherClient(APP.key, {
    wsHost: "127.0.0.1",
    wsPort: port,
    forceTLS: false,
    enabledTransports: ["ws"],
    cluster: "x",
    disableStats: true,
    channelAuthorization: {
      endpoint: "/unused",
      transport: "ajax",
      customHandler: ({ socketId, channelName }: { socketId: string; channelName: string }, callback: (error: Error | null, data: { auth: string }) => void) => {
        callback(null, backend.authorizeChannel(socketId, channelName, channelName.startsWith("presence-") ? presence : undefined));
      },
    },
    ...rest,
  });
  onCleanup(async () => client.disconnect());
  await within(5000, "pusher-js connected", (done) => {
    if (client.connection.state === "connected") return done(undefined);
    client.connection.bind("connected", () => done(undefined));
  });
  return client;
}

/** Subscribes and waits for `pusher:subscription_succeeded`; rejects with the subscription error. */
export async function subscribe(client: PusherClient, name: string, ms = 3000): Promise<Channel> {
  const channel = client.subscribe(name);
  await within<unknown>(ms, `subscription to ${name}`, (done, fail) => {
    channel.bind("pusher:subscription_succeeded", done);
    channel.bind("pusher:subscription_error", (error: unknown) => fail(Object.assign(new Error(`subscription error on ${name}`), { data: error })));
  });
  return channel;
}

/** Resolves with the next `event` on a pusher-js channel, or rejects after `ms`. */
export function channelEvent<T = unknown>(channel: Channel, event: string, ms = 3000): Promise<T> {
  return within<T>(ms, `${event} on ${channel.name}`, (done) => {
    const handler = (data: T) => {
      channel.unbind(event, handler);
      done(data);
    };
    channel.bind(event, handler);
  });
}

/** Collects every `event` on a pusher-js channel (for asserting absence). */
export function collectChannel<T = unknown>(channel: Channel, event: string): T[] {
  const seen: T[] = [];
  channel.bind(event, (data: T) => seen.push(data));
  return seen;
}

/** Runs `start` and settles with what it reports, or rejects after `ms`. */
export function within<T>(ms: number, what: string, start: (done: (value: T) => void, fail: (err: Error) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    start(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export interface PusherFrame {
  event: string;
  channel?: string;
  data?: any;
  user_id?: string;
}

/** A bare WebSocket speaking the Pusher protocol, for what pusher-js hides (close codes, raw frames). */
export interface RawPusher {
  ws: WebSocket;
  frames: PusherFrame[];
  send(frame: unknown): void;
  /** The next frame (after those already taken) with this event name. */
  next(event: string, ms?: number): Promise<PusherFrame>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function rawPusher(port: number, path = `/app/${APP.key}?protocol=7`, headers: Record<string, string> = {}): Promise<RawPusher> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  onCleanup(async () => ws.terminate());
  const frames: PusherFrame[] = [];
  const waiters: (() => void)[] = [];
  let taken = 0;
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString()) as PusherFrame;
    if (typeof frame.data === "string") {
      try {
        frame.data = JSON.parse(frame.data);
      } catch {
        // plain string data stays as it is
      }
    }
    frames.push(frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await within(3000, "websocket open", (done, fail) => {
    ws.once("open", () => done(undefined));
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(Object.assign(new Error(`upgrade refused ${res.statusCode}`), { status: res.statusCode })));
  });
  const next = (event: string, ms = 3000) =>
    within<PusherFrame>(ms, `frame ${event}`, (done) => {
      const look = () => {
        for (let i = taken; i < frames.length; i++) {
          if (frames[i]!.event === event) {
            taken = i + 1;
            return done(frames[i]!);
          }
        }
        waiters.push(look);
      };
      look();
    });
  return { ws, frames, send: (frame) => ws.send(JSON.stringify(frame)), next, closed };
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: { time_ms: number; events: Record<string, unknown>[] };
}

/** An HTTP server standing in for the app backend's webhook endpoint. */
export async function webhookReceiver(): Promise<{ url: string; received: ReceivedWebhook[] }> {
  const received: ReceivedWebhook[] = [];
  const server = createHttpServer(async (req, res) => {
    let rawBody = "";
    for await (const chunk of req) rawBody += chunk;
    received.push({ headers: req.headers, rawBody, body: JSON.parse(rawBody) });
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pusher-webhooks`, received };
}

/** Polls until `check` passes, up to `ms`. */
export async function eventually(check: () => void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

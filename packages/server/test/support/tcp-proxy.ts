import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy the test controls, put between servers and the shared Postgres so
 * an outage can be staged without touching the real database: `cut()` drops
 * every open connection and refuses new ones; `stall()` keeps connections open
 * but holds every byte back (a network partition); `restore()` lets traffic
 * through again (held bytes are delivered, in order).
 */
export interface TcpProxy {
  readonly port: number;
  /** `postgres://…` URL of `target` rewritten to go through the proxy. */
  url(targetUrl: string): string;
  /**
   * `hangup` (default): new connections are accepted and closed at once.
   * `refuse`: the listener closes, so connecting fails with ECONNREFUSED (a dead
   * Redis host); `restore()` listens again on the same port.
   */
  cut(how?: "hangup" | "refuse"): void | Promise<void>;
  stall(): void;
  restore(): void | Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: "open" | "cut" | "stalled" = "open";
  /** Bytes held back while stalled, flushed in order on restore. */
  let held: (() => void)[] = [];
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const forward = (from: Socket, to: Socket) =>
    from.on("data", (chunk: Buffer) => {
      if (mode === "stalled") held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  const server = createServer((client) => {
    track(client);
    // While cut, a connection is accepted and closed at once: the driver sees the server hang up.
    if (mode === "cut") return void client.destroy();
    const upstream = connect(target.port, target.host);
    track(upstream);
    upstream.once("close", () => client.destroy());
    client.once("close", () => upstream.destroy());
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url(targetUrl) {
      const u = new URL(targetUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async cut(how: "hangup" | "refuse" = "hangup") {
      mode = "cut";
      held = [];
      for (const socket of sockets) socket.destroy();
      if (how === "refuse" && server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stall() {
      mode = "stalled";
    },
    async restore() {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
      mode = "open";
      for (const write of held) write();
      held = [];
    },
    async close() {
      mode = "cut";
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Host and port of a `postgres://` (or, with its default port, `redis://`) URL. */
export function hostPort(url: string, defaultPort = 5432): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || "127.0.0.1", port: Number(u.port || defaultPort) };
}

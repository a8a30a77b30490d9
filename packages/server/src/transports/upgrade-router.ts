import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import type { OriginPolicy } from "./origin-policy.js";

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Routes WebSocket upgrades on the shared HTTP server by path prefix. Socket.IO
 * (`/socket.io/`) answers its own upgrades; every other path is ours: an
 * unknown path or a refused origin gets an HTTP error instead of a socket left
 * hanging.
 */
export class UpgradeRouter {
  private readonly routes: { prefix: string; handler: UpgradeHandler }[] = [];

  constructor(server: HttpServer, origins: OriginPolicy) {
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? "/").split("?")[0]!;
      if (path.startsWith("/socket.io/")) return;
      if (!origins.isAllowed(request.headers.origin)) return reject(socket, 403, "origin not allowed");
      const route = this.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
      if (!route) return reject(socket, 404, "no WebSocket endpoint here");
      route.handler(request, socket, head);
    });
  }

  /** Handles upgrades for `prefix` and paths below it. */
  add(prefix: string, handler: UpgradeHandler): void {
    this.routes.push({ prefix, handler });
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function reject(socket: Duplex, status: number, message: string): void {
  const code = { 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited" }[status] ?? "bad_request";
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests" }[status] ?? "Error";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

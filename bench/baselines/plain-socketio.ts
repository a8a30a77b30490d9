/**
 * The peer every Switchboard fan-out number is compared with: a Socket.IO
 * server written the way typical apps write it. Clients join a room by name and
 * a publisher asks the server to broadcast with `io.to(room).emit` from its
 * handler: an HTTP handler (`POST /publish`, how an app's backend hands events
 * to its Socket.IO layer, and the path Switchboard's publishes take) or a
 * socket event handler (`publish`). No auth, no validation, no persistence.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { readPublish } from "./http-publish.js";

const http = createServer((req, res) => {
  void readPublish(req, res, ({ room, event, data }) => io.to(room).emit(event, data));
});
const io = new Server(http, { transports: ["websocket"] });
io.on("connection", (socket) => {
  socket.on("join", (room: string, ack?: () => void) => {
    socket.join(room);
    ack?.();
  });
  socket.on("publish", ({ room, event, data }: { room: string; event: string; data: unknown }, ack?: () => void) => {
    io.to(room).emit(event, data);
    ack?.();
  });
  // A member talking to the rest of its room (the small-rooms scenario).
  socket.on("send", ({ room, event, data }: { room: string; event: string; data: unknown }, ack?: () => void) => {
    socket.to(room).emit(event, data);
    ack?.();
  });
});
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${(http.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));

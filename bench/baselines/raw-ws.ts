/**
 * The practical ceiling for Node on this machine: raw `ws`, rooms as sets of
 * sockets, and one pre-serialized frame sent to every member. Speaks just enough
 * of the Socket.IO framing (`40`, `42[...]`) for the same load clients to use it.
 * Publishes come as `POST /publish` or as a `publish` event on a socket.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { readPublish } from "./http-publish.js";

const http = createServer((req, res) => {
  void readPublish(req, res, ({ room, event, data }) => broadcast(room, event, data));
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
const rooms = new Map<string, Set<WebSocket>>();

/** One frame, serialized once, to every member of the room (but `except`). */
function broadcast(room: string, event: string, data: unknown, except?: WebSocket): void {
  const frame = `42${JSON.stringify([event, data])}`;
  for (const member of rooms.get(room) ?? []) if (member !== except) member.send(frame);
}

wss.on("connection", (ws) => {
  ws.send('0{"sid":"raw","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  const joined: string[] = [];
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text.startsWith("40")) return ws.send('40{"sid":"raw"}');
    if (!text.startsWith("42")) return;
    let i = 2;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    const ackId = text.slice(2, i);
    const [event, payload] = JSON.parse(text.slice(i)) as [string, any];
    if (event === "join") {
      let set = rooms.get(payload);
      if (!set) rooms.set(payload, (set = new Set()));
      set.add(ws);
      joined.push(payload);
    } else if (event === "publish") {
      broadcast(payload.room, payload.event, payload.data);
    } else if (event === "send") {
      // A member talking to the rest of its room (the small-rooms scenario).
      broadcast(payload.room, payload.event, payload.data, ws);
    }
    if (ackId) ws.send(`43${ackId}[]`);
  });
  ws.on("close", () => {
    for (const room of joined) rooms.get(room)?.delete(ws);
  });
});
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${(http.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));

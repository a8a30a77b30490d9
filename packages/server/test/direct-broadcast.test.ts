import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Server as SocketIoServer, type Socket as ServerSocket } from "socket.io";
import { io as connectSocketIo, type Socket as ClientSocket } from "socket.io-client";
import { WriteCoalescer } from "../src/transports/write-coalescer.js";
import { directBroadcasts } from "../src/transports/socketio/direct-broadcast.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * A Socket.IO server set up as Switchboard's transport sets it up for writing
 * (sockets through a write coalescer, broadcasts written directly), with one
 * client in room `r`; counts the Engine.IO packets the server socket creates.
 */
async function serverWithClient(transports: ("websocket" | "polling")[]) {
  const http: HttpServer = createServer();
  const io = new SocketIoServer(http, { wsEngine: new WriteCoalescer().wsEngine() });
  const writeDirectly = directBroadcasts();
  const joined = new Promise<ServerSocket>((resolve) =>
    io.on("connection", (socket) => {
      writeDirectly(socket);
      socket.join("r");
      resolve(socket);
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client: ClientSocket = connectSocketIo(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports, forceNew: true });
  cleanups.push(() => {
    client.close();
    io.close();
  });
  const socket = await joined;
  await new Promise<void>((resolve) => (client.connected ? resolve() : client.once("connect", () => resolve())));
  const engineEvents = { packetCreate: 0 };
  socket.conn.on("packetCreate", () => engineEvents.packetCreate++);
  const received: unknown[] = [];
  client.on("e", (...args: unknown[]) => received.push(args[0]));
  return { io, socket, client, received, engineEvents };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("room broadcasts written directly to the WebSocket", () => {
  it("a room broadcast reaches a WebSocket client as its pre-built frame, without an Engine.IO packet", async () => {
    const { io, received, engineEvents } = await serverWithClient(["websocket"]);
    io.to("r").emit("e", { n: 1, text: "héllo" });
    await until(() => received.length === 1);
    expect(received).toEqual([{ n: 1, text: "héllo" }]);
    expect(engineEvents.packetCreate).toBe(0);
  });

  it("a broadcast waits behind the packets Engine.IO has queued for the client, so the order holds", async () => {
    const { io, socket, received, engineEvents } = await serverWithClient(["websocket"]);
    // In one turn: the first emit is written and leaves Engine.IO's transport busy until its
    // write completes, so the third is queued; the broadcasts after it must queue behind it.
    socket.emit("e", 1);
    io.to("r").emit("e", 2);
    socket.emit("e", 3);
    io.to("r").emit("e", 4);
    io.to("r").emit("e", 5);
    socket.emit("e", 6);
    io.to("r").emit("e", 7);
    await until(() => received.length === 7);
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Direct: broadcast 2 only; 4, 5 and 7 had packets ahead of them.
    expect(engineEvents.packetCreate).toBe(6);
    // Once Engine.IO's queue is empty, broadcasts go direct again.
    io.to("r").emit("e", 8);
    await until(() => received.length === 8);
    expect(received.at(-1)).toBe(8);
    expect(engineEvents.packetCreate).toBe(6);
  });

  it("a long-polling client and a volatile broadcast keep Engine.IO's path", async () => {
    const polling = await serverWithClient(["polling"]);
    polling.io.to("r").emit("e", "polled");
    await until(() => polling.received.length === 1);
    expect(polling.received).toEqual(["polled"]);
    expect(polling.engineEvents.packetCreate).toBe(1);

    const ws = await serverWithClient(["websocket"]);
    ws.io.to("r").volatile.emit("e", "volatile");
    await until(() => ws.received.length === 1);
    expect(ws.received).toEqual(["volatile"]);
    expect(ws.engineEvents.packetCreate).toBe(1);
  });
});

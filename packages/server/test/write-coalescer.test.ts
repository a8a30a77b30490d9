import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Server as SocketIoServer } from "socket.io";
import { io as connectSocketIo } from "socket.io-client";
import { WebSocket, WebSocketServer } from "ws";
import { WriteCoalescer } from "../src/transports/write-coalescer.js";
import { countWrites } from "./support/socket-writes.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A ws server whose sockets write through a coalescer, counting the TCP socket's write calls. */
async function coalescingServer(options?: ConstructorParameters<typeof WriteCoalescer>[0]) {
  const coalescer = new WriteCoalescer(options);
  const Engine = coalescer.wsEngine();
  const wss = new Engine({ noServer: true });
  const http = createServer();
  servers.push(http);
  const writes = { single: 0, vectored: 0 };
  const connected = new Promise<WebSocket>((resolve) => {
    http.on("upgrade", (req, socket, head) => {
      countWrites(socket as Socket, writes);
      wss.handleUpgrade(req, socket, head, (ws) => resolve(ws));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  await new Promise((resolve) => client.once("open", resolve));
  return { server: await connected, client, received, writes, coalescer };
}

/** A Socket.IO server (WebSocket only) under a coalescer's engine, counting the writes of its clients' TCP sockets. */
async function countingSocketIo() {
  const coalescer = new WriteCoalescer();
  const writes = { single: 0, vectored: 0 };
  class CountingEngine extends coalescer.wsEngine() {
    override handleUpgrade(...args: Parameters<WebSocketServer["handleUpgrade"]>): void {
      countWrites(args[1] as Socket, writes);
      super.handleUpgrade(...args);
    }
  }
  const http = createServer();
  servers.push(http);
  const io = new SocketIoServer(http, { wsEngine: CountingEngine, transports: ["websocket"] });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { io, port: (http.address() as AddressInfo).port, writes };
}

/** Sends `parts` (one frame each) in each of `turns` event-loop turns, waiting for the turn to end after each. */
async function sendPerTurn(server: WebSocket, turns: number, parts: string[]): Promise<void> {
  for (let n = 0; n < turns; n++) {
    for (const part of parts) server.send(`${part} ${n}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("write coalescer", () => {
  it("sends the frames of one event-loop turn to a socket in one write, in order", async () => {
    const { server, client, received, writes } = await coalescingServer();
    writes.single = writes.vectored = 0;
    server.send("one");
    server.send("two");
    server.send("three");
    await until(() => received.length === 3);
    expect(received).toEqual(["one", "two", "three"]);
    expect(writes).toEqual({ single: 0, vectored: 1 });
    client.close();
  });

  it("never holds a lone frame past the turn it was sent in", async () => {
    const { server, client, received, writes } = await coalescingServer();
    writes.single = writes.vectored = 0;
    server.send("alone");
    await new Promise((resolve) => setImmediate(resolve));
    await until(() => received.length === 1);
    expect(received).toEqual(["alone"]);
    expect(writes.single + writes.vectored).toBe(1);
    // Frames of the next turn are a write of their own.
    server.send("later");
    await until(() => received.length === 2);
    expect(received).toEqual(["alone", "later"]);
    expect(writes.single + writes.vectored).toBe(2);
    client.close();
  });

  it("calls a held write's callback when the turn ends, and with an error if the socket closed first", async () => {
    const { server, client, received } = await coalescingServer();
    const results: (Error | null | undefined)[] = [];
    server.send("kept", (err) => results.push(err));
    expect(results).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    await until(() => results.length === 1 && received.length === 1);
    expect(results).toEqual([null]);
    expect(received).toEqual(["kept"]);
    // A socket destroyed while its write is held: the callback hears it, once.
    server.send("lost", (err) => results.push(err));
    (server as unknown as { _socket: Socket })._socket.destroy();
    await until(() => results.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(results).toHaveLength(2);
    expect(results[1]).toBeInstanceOf(Error);
    client.terminate();
  });

  it("writes through at once while each socket gets one frame a turn, and holds again once frames pile up", async () => {
    const { server, client, received, writes, coalescer } = await coalescingServer({ decisionWindow: 8 });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    expect(coalescer.isHolding).toBe(true);
    // One frame a turn (ws writes each as header and payload under its own cork: still one frame).
    await sendPerTurn(server, 8, ["single"]);
    expect(coalescer.isHolding).toBe(false);
    writes.single = writes.vectored = 0;
    server.send("through");
    // Written during the send itself, not at the end of the turn.
    expect(writes.single + writes.vectored).toBe(1);
    await turn();
    // Three frames a turn: holding pays again, and the next turn's three frames leave in one write.
    await sendPerTurn(server, 8, ["a", "b", "c"]);
    expect(coalescer.isHolding).toBe(true);
    writes.single = writes.vectored = 0;
    for (const part of ["x", "y", "z"]) server.send(part);
    expect(writes.single + writes.vectored).toBe(0);
    await until(() => received.at(-1) === "z");
    expect(writes.single + writes.vectored).toBe(1);
    expect(received).toHaveLength(8 + 1 + 24 + 3);
    client.close();
  });

  it("decides after 16 turns with writes when a few sockets cannot fill the window of socket-turns", async () => {
    // The default window is 256 socket-turns: one socket at one frame a turn would keep
    // the starting decision (holding) for 256 turns.
    const { server, client, received, writes, coalescer } = await coalescingServer();
    expect(coalescer.isHolding).toBe(true);
    await sendPerTurn(server, 15, ["single"]);
    expect(coalescer.isHolding).toBe(true);
    await sendPerTurn(server, 1, ["single"]);
    expect(coalescer.isHolding).toBe(false);
    writes.single = writes.vectored = 0;
    server.send("through");
    expect(writes.single + writes.vectored).toBe(1);
    // Frames piling up again switch it back within 16 turns.
    await sendPerTurn(server, 16, ["a", "b"]);
    expect(coalescer.isHolding).toBe(true);
    await until(() => received.length === 16 + 1 + 32);
    expect(received).toHaveLength(16 + 1 + 32);
    client.close();
  });

  it("sends Socket.IO room broadcasts of one turn in one write, though Engine.IO waits for each write's callback", async () => {
    const { io, port, writes } = await countingSocketIo();
    io.on("connection", (socket) => void socket.join("room"));
    const client = connectSocketIo(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    await until(() => io.of("/").adapter.rooms.get("room")?.size === 1);
    const received: number[] = [];
    client.on("tick", (n: number) => received.push(n));
    writes.single = writes.vectored = 0;
    // Ten broadcasts in one turn: Engine.IO queues the nine after the first until the
    // first frame's write callback runs. The release runs it before uncorking, so the
    // nine join the held first frame and all ten leave in one write.
    for (let n = 0; n < 10; n++) io.to("room").emit("tick", n);
    await until(() => received.length === 10);
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(writes.single + writes.vectored).toBe(1);
    client.close();
    io.close();
  });

  it("sends the upgrade's 101 response and Engine.IO's open packet in one write", async () => {
    // No namespace connects: the open packet is the only frame, so the count is the upgrade's own.
    const { io, port, writes } = await countingSocketIo();
    const client = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const open = await new Promise<string>((resolve) => client.once("message", (data) => resolve(String(data))));
    expect(open).toMatch(/^0\{"sid":/);
    expect(writes.single + writes.vectored).toBe(1);
    client.close();
    io.close();
  });

  it("holds a socket's frames across turns until released, then sends them in one write with that turn's frames", async () => {
    const { server, client, received, writes, coalescer } = await coalescingServer();
    writes.single = writes.vectored = 0;
    const release = coalescer.holdUntilReleased(server, 5000);
    server.send("first");
    await new Promise((resolve) => setTimeout(resolve, 30));
    server.send("second");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(writes.single + writes.vectored).toBe(0);
    expect(received).toEqual([]);
    server.send("third");
    release();
    await until(() => received.length === 3);
    expect(received).toEqual(["first", "second", "third"]);
    expect(writes.single + writes.vectored).toBe(1);
    // Released: the next turn's frame is a write of its own.
    server.send("after");
    await until(() => received.length === 4);
    expect(writes.single + writes.vectored).toBe(2);
    client.close();
  });

  it("lets held frames go after the bound when nothing releases them", async () => {
    const { server, client, received, coalescer } = await coalescingServer();
    coalescer.holdUntilReleased(server, 100);
    server.send("waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([]);
    await until(() => received.length === 1);
    expect(received).toEqual(["waiting"]);
    client.close();
  });
});

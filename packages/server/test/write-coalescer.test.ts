import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { WriteCoalescer } from "../src/transports/write-coalescer.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A ws server whose sockets write through a coalescer, counting the TCP socket's write calls. */
async function coalescingServer() {
  const coalescer = new WriteCoalescer();
  const Engine = coalescer.wsEngine();
  const wss = new Engine({ noServer: true });
  const http = createServer();
  servers.push(http);
  const writes = { single: 0, vectored: 0 };
  const connected = new Promise<WebSocket>((resolve) => {
    http.on("upgrade", (req, socket, head) => {
      const raw = socket as Socket & { _write: Function; _writev: Function };
      const write = raw._write.bind(raw);
      const writev = raw._writev.bind(raw);
      raw._write = (...args: unknown[]) => (writes.single++, write(...args));
      raw._writev = (...args: unknown[]) => (writes.vectored++, writev(...args));
      wss.handleUpgrade(req, socket, head, (ws) => resolve(ws));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  await new Promise((resolve) => client.once("open", resolve));
  return { server: await connected, client, received, writes };
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
});

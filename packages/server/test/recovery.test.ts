import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { CompactRecoveryAdapter } from "../src/transports/socketio/compact-recovery-adapter.js";
import { ok } from "./support/chat-helpers.js";
import { collect, nextEvent, onCleanup, sleep, startServer } from "./support/server-harness.js";

const API_KEY = "acme-key-0123456789abcdef";
const env = { API_KEYS: `acme:${API_KEY}` };
const FAST_RECONNECT = { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200 } as const;

async function publish(url: string, channel: string | string[], event: string, data: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ ...(typeof channel === "string" ? { channel } : { channels: channel }), event, data }),
  });
  expect(res.status).toBe(202);
}

/** Drops the client's transport (a recoverable disconnect) and resolves once it is connected again. */
async function dropAndReconnect(socket: Socket, whileAway: () => Promise<void>): Promise<{ recovered: boolean }> {
  const reconnected = nextEvent<{ recovered: boolean }>(socket, "connected", 5000);
  const disconnected = nextEvent(socket, "disconnect");
  socket.io.engine.close();
  await disconnected;
  await whileAway();
  return reconnected;
}

describe("connection state recovery on one node", () => {
  it("a client that drops gets the events published while it was away, once each and in order, and none of rooms it was not in", async () => {
    const { url, connect } = await startServer({ env });
    const { socket } = await connect({ sub: "alice", tenant: "acme" }, FAST_RECONNECT);
    await ok(socket, "room:join", { room: "topic:news" });
    // Someone stays online in another room, which an event below goes to as well.
    const { socket: bob } = await connect({ sub: "bob", tenant: "acme" });
    await ok(bob, "room:join", { room: "topic:busy" });
    const news = collect<{ n: number }>(socket, "news:item");
    const other = collect(socket, "other:item");
    // Recovery resumes from the last broadcast the client saw.
    await publish(url, "topic:news", "news:item", { n: 0 });
    await sleep(100);
    expect(news).toEqual([{ n: 0 }]);

    const { recovered } = await dropAndReconnect(socket, async () => {
      // Let the server see the disconnect first, so these broadcasts find no socket and live only in the recovery buffer.
      await sleep(50);
      for (let n = 1; n <= 2; n++) await publish(url, "topic:news", "news:item", { n });
      await publish(url, ["topic:busy", "topic:news"], "news:item", { n: 3 });
      await publish(url, "topic:other", "other:item", { n: 9 });
      await publish(url, "user:alice", "news:item", { n: 4, personal: true });
    });
    expect(recovered).toBe(true);
    await sleep(200);
    expect(news).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4, personal: true }]);
    expect(other).toEqual([]);
    // Live delivery goes on after the replay.
    await publish(url, "topic:news", "news:item", { n: 5 });
    await sleep(100);
    expect(news.at(-1)).toEqual({ n: 5 });
  });

  it("a session's missed events go only to a handshake whose token names its user: its id and offset alone get nothing", async () => {
    const { url, connect, token } = await startServer({ env });
    const { socket: bob } = await connect({ sub: "bob", tenant: "acme" });
    await ok(bob, "room:join", { room: "topic:ward" });
    await publish(url, "topic:ward", "ward:note", { n: 0 });
    await sleep(100);
    // Bob's device vanishes (a recoverable drop) and does not come back by itself.
    const session = { pid: (bob as unknown as { _pid: string })._pid, offset: (bob as unknown as { _lastOffset: string })._lastOffset };
    expect(session.pid).toBeTruthy();
    expect(session.offset).toBeTruthy();
    bob.io.reconnection(false);
    const gone = nextEvent(bob, "disconnect");
    bob.io.engine.close();
    await gone;
    await sleep(50);
    await publish(url, "topic:ward", "ward:note", { n: 1, secret: "lab result positive" });
    const { socket: eve } = await connect({ sub: "eve", tenant: "acme" });
    /** A raw handshake presenting bob's session: every frame until the server accepts or refuses it. */
    const handshake = (auth: Record<string, unknown>) =>
      new Promise<string[]>((resolve, reject) => {
        const frames: string[] = [];
        const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
        onCleanup(async () => ws.terminate());
        ws.on("error", reject);
        ws.on("message", (raw) => {
          const frame = raw.toString();
          frames.push(frame);
          if (frame.startsWith("0")) ws.send(`40${JSON.stringify({ ...auth, ...session })}`);
          if (frame.startsWith("44") || frame.startsWith("40{")) setTimeout(() => resolve(frames), 100);
        });
      });
    for (const auth of [{}, { token: "x.y.z" }, { token: await token({ sub: "eve", tenant: "acme" }) }, { token: await token({ sub: "bob", tenant: "globex" }) }]) {
      const frames = await handshake(auth);
      expect(frames.some((f) => f.startsWith("44"))).toBe(true);
      expect(frames.join("\n")).not.toContain("lab result positive");
    }
    // Bob himself, with his token, gets what he missed.
    const frames = await handshake({ token: await token({ sub: "bob", tenant: "acme" }) });
    expect(frames.join("\n")).toContain("lab result positive");
    expect(frames.join("\n")).toContain('"recovered":true');
    eve.close();
  });

  it("a device that drops and is recovered within the offline grace stays online, and nobody is told it left", async () => {
    const { url, connect } = await startServer({ env });
    const { socket: watcher } = await connect({ sub: "wendy", tenant: "acme" });
    await ok(watcher, "presence:subscribe", { userIds: ["dan"] });
    const changes = collect<{ userId: string; status: string }>(watcher, "presence:changed");
    const { socket: dan } = await connect({ sub: "dan", tenant: "acme" }, FAST_RECONNECT);
    await sleep(200);
    changes.length = 0;

    const { recovered } = await dropAndReconnect(dan, async () => void (await sleep(50)));
    expect(recovered).toBe(true);
    // Past the 2-s grace the departure would otherwise have been announced.
    await sleep(2500);
    expect(changes).toEqual([]);
    expect((await ok(watcher, "presence:get", { userIds: ["dan"] })).presence[0].status).toBe("online");
    const online = await (await fetch(`${url}/v1/users/dan/online`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
    expect(online).toMatchObject({ online: true, status: "online" });
    expect((await ok(dan, "presence:setStatus", { status: "busy" })).presence.status).toBe("busy");

    // And its real departure later is announced once.
    dan.disconnect();
    await sleep(2500);
    expect(changes.map((c) => c.status)).toEqual(["busy", "offline"]);
  });

  it("a client whose last broadcast is older than the window starts a fresh session instead of resuming", async () => {
    const { url, connect } = await startServer({ env: { ...env, RECOVERY_WINDOW_MS: "1000" } });
    const { socket } = await connect({ sub: "alice", tenant: "acme" }, FAST_RECONNECT);
    await ok(socket, "room:join", { room: "topic:news" });
    const received = nextEvent(socket, "news:item");
    await publish(url, "topic:news", "news:item", { n: 0 });
    await received;
    // Past the window, the broadcast whose offset the client holds is pruned (every 1,000 ms here, so
    // by 2 s at the latest), while the session itself, dropped below, is well within it.
    await sleep(2300);
    const { recovered } = await dropAndReconnect(socket, async () => {});
    expect(recovered).toBe(false);
  });
});

/** A bare Socket.IO server with recovery on this adapter, and a way to connect clients to it. */
async function startSocketIo(windowMs = 60_000) {
  const http: HttpServer = createServer();
  const server = new Server(http, { adapter: CompactRecoveryAdapter, connectionStateRecovery: { maxDisconnectionDuration: windowMs } });
  server.on("connection", (socket) => {
    socket.on("join", (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    server.close();
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const adapter = server.of("/").adapter as CompactRecoveryAdapter;
  const connect = async () => {
    const socket = io(url, { transports: ["websocket"], forceNew: true, ...FAST_RECONNECT });
    onCleanup(async () => void socket.disconnect());
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    return socket;
  };
  return { server, adapter, connect };
}

describe("CompactRecoveryAdapter", () => {
  it("replays what Socket.IO's own adapter would: broadcasts to the session's rooms, not those excluding it, binary parts intact", async () => {
    const { server, connect } = await startSocketIo();
    const socket = await connect();
    await socket.emitWithAck("join", "a");
    const seen: unknown[][] = [];
    socket.onAny((event: string, ...args: unknown[]) => seen.push([event, ...args]));
    server.to("a").emit("first", 0);
    await sleep(100);

    const reconnected = new Promise((resolve) => socket.io.once("reconnect", resolve));
    socket.io.engine.close();
    await sleep(50);
    server.to("a").emit("to-a", { nested: { list: [1, "two", null] } });
    server.to("b").emit("to-b", 1);
    server.emit("to-all", "x");
    server.to("a").except("a").emit("excluded", 1);
    server.to("a").emit("binary", Buffer.from([1, 2, 3]));
    server.volatile.to("a").emit("volatile", 1);
    await reconnected;
    await sleep(100);

    expect(socket.recovered).toBe(true);
    expect(seen.map(([event]) => event)).toEqual(["first", "to-a", "to-all", "binary"]);
    expect(seen[1]![1]).toEqual({ nested: { list: [1, "two", null] } });
    expect(Buffer.from(seen[3]![1] as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
  });

  it("refuses offsets it never issued or no longer keeps, and forgets broadcasts and sessions older than the window", async () => {
    const { server, adapter, connect } = await startSocketIo(1000);
    const socket = await connect();
    await socket.emitWithAck("join", "a");
    server.to("a").emit("one", 1);
    server.to("a").emit("two", 2);
    await sleep(50);
    const pid = (socket as unknown as { _pid: string })._pid;
    adapter.persistSession({ sid: "gone", pid: "other-pid", rooms: ["a"], data: {} });
    expect(adapter.stored).toEqual({ packets: 2, sessions: 1 });

    adapter.persistSession({ sid: socket.id!, pid, rooms: ["a"], data: {} });
    for (const offset of ["", "zzzzzzzzzzzz", "-1", "0.5", "0 ", "2", "a"]) expect(await adapter.restoreSession(pid, offset)).toBeNull();
    const restored = await adapter.restoreSession(pid, "0");
    expect(restored.missedPackets).toEqual([["two", 2, "1"]]);

    adapter.prune(Date.now() + 1001);
    expect(adapter.stored).toEqual({ packets: 0, sessions: 0 });
    expect(await adapter.restoreSession(pid, "0")).toBeNull();
  });
});

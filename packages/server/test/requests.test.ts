import { describe, expect, it } from "vitest";
import { request, sleep, startServer } from "./support/server-harness.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string; details?: unknown } };

describe("request envelope", () => {
  it.each([
    ["a number instead of an object", 42],
    ["a string", "topic:news"],
    ["null", null],
    ["an array", [{ room: "topic:news" }]],
    ["a missing room", {}],
    ["a room of the wrong type", { room: 42 }],
    ["a room without a kind", { room: "news" }],
    ["a room with an upper-case kind", { room: "Topic:news" }],
    ["an over-long room", { room: `topic:${"x".repeat(200)}` }],
  ])("room:join with %s is answered bad_request and the connection stays up", async (_name, payload) => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const ack = await request<Ack>(socket, "room:join", payload);
    expect(ack.ok).toBe(false);
    expect(ack.error?.code).toBe("bad_request");
    expect(typeof ack.error?.message).toBe("string");
    expect(socket.connected).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "topic:news" })).ok).toBe(true);
  });

  it("unknown extra fields are ignored, not passed on", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    expect(await request<Ack>(socket, "room:join", { room: "topic:news", admin: true })).toEqual({ ok: true, data: { room: "topic:news" } });
  });

  it("bad_request details name the failing field", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const ack = await request<Ack>(socket, "room:join", { room: 42 });
    expect(ack.error?.details).toEqual([expect.objectContaining({ path: "room" })]);
  });

  it("an unknown event with an ack is answered bad_request; the connection stays up", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    for (const event of ["nope", "room:explode", "__proto__", "constructor", "x".repeat(300)]) {
      const ack = await request<Ack>(socket, event, {});
      expect(ack.ok, event).toBe(false);
      expect(ack.error?.code, event).toBe("bad_request");
    }
    expect(socket.connected).toBe(true);
  });

  it("a request sent with only an ack callback is parsed as an empty payload", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    const ack = (await socket.timeout(5000).emitWithAck("room:join")) as Ack;
    expect(ack.error?.code).toBe("bad_request");
  });

  it("a request without an ack callback is still processed", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    socket.emit("room:join", { room: "topic:quiet" });
    socket.emit("unknown:event", {});
    socket.emit("room:join", "garbage");
    await sleep(100);
    const ack = await request<Ack>(socket, "room:participants", { room: "topic:quiet" });
    expect(ack.data.participants).toEqual([{ userId: "alice", name: "alice" }]);
    expect(socket.connected).toBe(true);
  });

  it("a frame over the size limit closes only that connection", async () => {
    const { connect } = await startServer({ env: { MAX_PAYLOAD_BYTES: "4096" } });
    const victim = await connect({ sub: "alice", tenant: "acme" });
    const bystander = await connect({ sub: "bob", tenant: "acme" });
    const closed = new Promise<string>((resolve) => victim.socket.once("disconnect", resolve));
    victim.socket.emit("room:join", { room: "topic:big", pad: "x".repeat(10_000) });
    expect(await closed).toBe("transport close");
    expect((await request<Ack>(bystander.socket, "room:join", { room: "topic:ok" })).ok).toBe(true);
  });
});

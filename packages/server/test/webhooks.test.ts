import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "@switchboard/server";
import { databaseEnv, sleep, startServer } from "./support/server-harness.js";
import { createGroup, ok } from "./support/chat-helpers.js";
import { startReceiver, type Received } from "./support/http-receiver.js";

const SECRET = "webhook-secret-0123456789";

/** Presence also sends user.online / user.offline: each test looks only at the event it is about. */
const ofType = (hits: Received[], type: string) => hits.filter((h) => h.headers["x-switchboard-event"] === type);

async function waitForType(receiver: Awaited<ReturnType<typeof startReceiver>>, type: string, count: number, ms = 5000): Promise<Received[]> {
  const deadline = Date.now() + ms;
  while (ofType(receiver.received, type).length < count) {
    if (Date.now() > deadline) throw new Error(`only ${ofType(receiver.received, type).length} of ${count} ${type} deliveries arrived`);
    await sleep(50);
  }
  return ofType(receiver.received, type);
}

describe("outgoing webhooks", () => {
  it("message.created arrives signed at the receiver and the signature verifies", async () => {
    const receiver = await startReceiver();
    const { connect } = await startServer({ env: { WEBHOOK_URL: `${receiver.url}/hooks`, WEBHOOK_SECRET: SECRET } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const { message } = await ok(alice.socket, "message:send", { conversationId: id, body: "hello" });
    const [hit] = await waitForType(receiver, "message.created", 1);
    expect(hit!.path).toBe("/hooks");
    expect(hit!.headers["x-switchboard-event"]).toBe("message.created");
    expect(verifyWebhook(SECRET, hit!.body, hit!.headers["x-switchboard-signature"] as string)).toBe(true);
    expect(verifyWebhook(SECRET, `${hit!.body} `, hit!.headers["x-switchboard-signature"] as string)).toBe(false);
    expect(verifyWebhook("another-secret-0123456789", hit!.body, hit!.headers["x-switchboard-signature"] as string)).toBe(false);
    const payload = JSON.parse(hit!.body);
    expect(payload).toMatchObject({ type: "message.created", tenantId: "acme", data: { message, participantIds: ["alice", "bob"] } });
    expect(payload.id).toBe(hit!.headers["x-switchboard-delivery"]);
  });

  it("a receiver gets only the documented event types: a conversation read to its end sends none", async () => {
    const receiver = await startReceiver();
    const { connect } = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const { message } = await ok(alice.socket, "message:send", { conversationId: id, body: "hello" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    // Bob was away for the message: he has its notification, which this read marks read.
    expect(await ok(bob.socket, "message:read", { conversationId: id, upToSeq: message.seq })).toEqual({ unreadCount: 0 });
    await ok(alice.socket, "message:send", { conversationId: id, body: "after the read" });
    await waitForType(receiver, "message.created", 2);
    await sleep(300);
    const types = new Set(receiver.received.map((h) => h.headers["x-switchboard-event"]));
    expect([...types].sort()).toEqual(["message.created", "user.online"]);
  });

  it("a delivery answered 500 is retried with backoff until it succeeds, and the log shows the attempts", async () => {
    let failures = 0;
    const receiver = await startReceiver((req) => (req.headers["x-switchboard-event"] === "message.created" && failures++ < 2 ? 500 : 204));
    const { connect, server } = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: "50" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "retry me" });
    const hits = await waitForType(receiver, "message.created", 3);
    expect(new Set(hits.map((h) => h.headers["x-switchboard-delivery"])).size).toBe(1);
    expect(hits.map((h) => h.headers["x-switchboard-attempt"])).toEqual(["1", "2", "3"]);
    await sleep(100);
    const entry = (await server.webhooks.log("acme")).find((d) => d.event === "message.created");
    expect(entry).toMatchObject({ event: "message.created", status: "delivered", attempts: 3, lastStatus: 204, lastError: null });
  });

  it("a receiver that keeps failing is given up after the configured attempts", async () => {
    const receiver = await startReceiver((req) => (req.headers["x-switchboard-event"] === "message.created" ? 503 : 204));
    const { connect, server } = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_MAX_ATTEMPTS: "2", WEBHOOK_RETRY_BASE_MS: "30" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "doomed" });
    await waitForType(receiver, "message.created", 2);
    await sleep(300);
    expect(ofType(receiver.received, "message.created")).toHaveLength(2);
    const entry = (await server.webhooks.log("acme")).find((d) => d.event === "message.created");
    expect(entry).toMatchObject({ status: "failed", attempts: 2, lastStatus: 503, lastError: "receiver answered 503" });
  });

  it("call.missed is sent for an unanswered call, to the tenant's own receiver", async () => {
    const acme = await startReceiver();
    const fallback = await startReceiver();
    const { connect } = await startServer({
      env: { WEBHOOK_URL: fallback.url, WEBHOOK_TENANT_URLS: `acme=${acme.url}/acme`, CALL_RING_TIMEOUT_MS: "300" },
    });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    const [hit] = await waitForType(acme, "call.missed", 1);
    expect(JSON.parse(hit!.body)).toMatchObject({ type: "call.missed", tenantId: "acme", data: { userIds: ["bob"], call: { id: call.id, endReason: "timeout" } } });
    expect(fallback.received).toEqual([]);
  });

  it("a tenant named like a built-in object key (constructor, toString) with no receiver of its own uses WEBHOOK_URL", async () => {
    const acme = await startReceiver();
    const fallback = await startReceiver();
    const { connect } = await startServer({ env: { WEBHOOK_URL: fallback.url, WEBHOOK_TENANT_URLS: `acme=${acme.url}/acme` } });
    for (const tenant of ["constructor", "toString"]) {
      const alice = await connect({ sub: "alice", tenant });
      const id = await createGroup(alice.socket, ["bob"]);
      await ok(alice.socket, "message:send", { conversationId: id, body: "hello" });
    }
    const hits = await waitForType(fallback, "message.created", 2);
    expect(hits.map((h) => JSON.parse(h.body).tenantId).sort()).toEqual(["constructor", "toString"]);
    expect(acme.received).toEqual([]);
  });

  it("a delivery left pending by an earlier configuration still arrives after the receiver setting is removed", async () => {
    let up = false;
    const receiver = await startReceiver(() => (up ? 204 : 503));
    // One database for both servers; the embedded one belongs to one process at a time, so they run one after the other.
    const db = { ...databaseEnv(), DATA_DIR: await mkdtemp(join(tmpdir(), "switchboard-webhooks-")) };
    const first = await startServer({ env: { ...db, WEBHOOK_URL: receiver.url, WEBHOOK_RETRY_BASE_MS: "300" } });
    const alice = await first.connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "left behind" });
    await waitForType(receiver, "message.created", 1);
    alice.socket.disconnect();
    await first.server.stop();

    up = true;
    const second = await startServer({ env: db });
    // A server without a receiver polls until nothing is pending, then stops.
    const deadline = Date.now() + 8000;
    while (second.server.webhooks.polling && Date.now() < deadline) await sleep(50);
    expect(second.server.webhooks.polling).toBe(false);
    // The first server may have retried once more while stopping (answered 503 too): what counts is the 204.
    const hits = ofType(receiver.received, "message.created");
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hits.map((h) => h.headers["x-switchboard-delivery"])).size).toBe(1);
    expect(JSON.parse(hits.at(-1)!.body)).toMatchObject({ type: "message.created", data: { message: { body: "left behind" } } });
    const log = await second.server.webhooks.log("acme");
    expect(log.find((d) => d.event === "message.created")).toMatchObject({ status: "delivered", lastStatus: 204 });
    expect(log.every((d) => d.status === "delivered")).toBe(true);
  });

  it("nothing is stored or sent when no receiver is configured", async () => {
    const { connect, server } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "quiet" });
    expect(await server.webhooks.log("acme")).toEqual([]);
    expect(server.webhooks.polling).toBe(false);
  });
});

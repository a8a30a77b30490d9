import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { APP, backendFor, channelEvent, collectChannel, eventually, pusherClient, rawPusher, startPusherServer, subscribe, webhookReceiver } from "./support/pusher-helpers.js";
import { sleep } from "./support/server-harness.js";

interface SignOptions {
  body?: string;
  params?: Record<string, string>;
  timestamp?: number;
  secret?: string;
  key?: string;
  /** Overrides the body_md5 that is signed and sent. */
  md5?: string;
}

/** Signs a request the way Pusher's spec says, independently of the pusher library. */
function signedUrl(base: string, method: string, path: string, options: SignOptions = {}): string {
  const params: Record<string, string> = {
    auth_key: options.key ?? APP.key,
    auth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: "1.0",
    ...options.params,
  };
  const md5 = options.md5 ?? (options.body ? createHash("md5").update(options.body).digest("hex") : undefined);
  if (md5 !== undefined) params.body_md5 = md5;
  const query = Object.keys(params)
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join("&");
  const signature = createHmac("sha256", options.secret ?? APP.secret).update(`${method}\n${path}\n${query}`).digest("hex");
  return `${base}${path}?${query}&auth_signature=${signature}`;
}

async function call(base: string, method: string, path: string, options: SignOptions & { contentType?: string } = {}) {
  const res = await fetch(signedUrl(base, method, path, options), {
    method,
    body: options.body,
    headers: options.body !== undefined ? { "content-type": options.contentType ?? "application/json" } : {},
  });
  return { status: res.status, body: (await res.json()) as any };
}

const EVENTS = `/apps/${APP.appId}/events`;

describe("Pusher HTTP API: request signing", () => {
  it("a correctly signed request is accepted", async () => {
    const { url } = await startPusherServer();
    const body = JSON.stringify({ name: "flash", channels: ["news"], data: "{}" });
    expect(await call(url, "POST", EVENTS, { body })).toEqual({ status: 200, body: {} });
  });

  it("a wrong secret, wrong key, stale or future timestamp, bad body_md5, missing signature or unknown app is 401", async () => {
    const { url, port } = await startPusherServer();
    const body = JSON.stringify({ name: "flash", channels: ["news"], data: "{}" });
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, SignOptions, string?][] = [
      ["wrong secret", { body, secret: "not-the-secret-at-all" }],
      ["wrong key", { body, key: "other-key" }],
      ["stale timestamp", { body, timestamp: now - 700 }],
      ["future timestamp", { body, timestamp: now + 700 }],
      ["bad body_md5", { body, md5: createHash("md5").update("other body").digest("hex") }],
      ["unknown app", { body }, `/apps/9999/events`],
    ];
    for (const [what, options, path] of cases) {
      const res = await call(url, "POST", path ?? EVENTS, options);
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe("unauthorized");
    }
    const unsigned = await fetch(`${url}${EVENTS}`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(unsigned.status).toBe(401);
    const tampered = signedUrl(url, "POST", EVENTS, { body }).replace(/auth_signature=(.)/, (_m, c) => `auth_signature=${c === "a" ? "b" : "a"}`);
    expect((await fetch(tampered, { method: "POST", body, headers: { "content-type": "application/json" } })).status).toBe(401);
    // The official library with a wrong secret gets the same answer.
    await expect(backendFor(port, "wrong-secret-0123456789").trigger("news", "x", {})).rejects.toMatchObject({ status: 401 });
  });

  it("never answers 500 to garbage: malformed JSON, wrong types, bad names are 400 and oversized bodies 413", async () => {
    const { url } = await startPusherServer();
    const bodies: [string, string, number][] = [
      ["malformed JSON", "{not json", 400],
      ["wrong types", JSON.stringify({ name: 5, channels: "news", data: {} }), 400],
      ["no channel", JSON.stringify({ name: "x", data: "{}" }), 400],
      ["invalid channel", JSON.stringify({ name: "x", channels: ["bad name"], data: "{}" }), 400],
      ["101 channels", JSON.stringify({ name: "x", channels: Array.from({ length: 101 }, (_, i) => `c${i}`), data: "{}" }), 400],
      ["bad socket_id", JSON.stringify({ name: "x", channels: ["news"], data: "{}", socket_id: "abc" }), 400],
      ["data over 10 KB", JSON.stringify({ name: "x", channels: ["news"], data: "x".repeat(10 * 1024 + 1) }), 413],
      ["body over the limit", JSON.stringify({ name: "x", channels: ["news"], data: "x".repeat(200 * 1024) }), 413],
      ["JSON null", "null", 400],
    ];
    for (const [what, body, status] of bodies) {
      const res = await call(url, "POST", EVENTS, { body });
      expect(res.status, what).toBe(status);
      expect(res.body.error.code, what).toBe(status === 413 ? "payload_too_large" : "bad_request");
    }
    const batchPath = `/apps/${APP.appId}/batch_events`;
    const eleven = JSON.stringify({ batch: Array.from({ length: 11 }, () => ({ channel: "news", name: "x", data: "{}" })) });
    expect((await call(url, "POST", batchPath, { body: eleven })).status).toBe(400);
    expect((await call(url, "POST", batchPath, { body: "[]", contentType: "text/plain" })).status).toBe(400);
    expect((await call(url, "GET", `/apps/${APP.appId}/channels`, { params: { info: "bogus" } })).status).toBe(400);
    expect((await call(url, "GET", `/apps/${APP.appId}/channels/news/users`)).status).toBe(400);
    expect((await call(url, "GET", `/apps/${APP.appId}/channels/bad%20name`)).status).toBe(400);
  });
});

describe("Pusher HTTP API: events and queries", () => {
  it("socket_id leaves out that connection; other subscribers still get the event", async () => {
    const { port, backend } = await startPusherServer();
    const sender = await pusherClient(port);
    const other = await pusherClient(port);
    const senderHeard = collectChannel(await subscribe(sender, "news"), "flash");
    const otherHears = channelEvent(await subscribe(other, "news"), "flash");
    await backend.trigger("news", "flash", { n: 1 }, { socket_id: sender.connection.socket_id });
    expect(await otherHears).toEqual({ n: 1 });
    await sleep(100);
    expect(senderHeard).toEqual([]);
  });

  it("events named as the server's own (connected, message:new, pusher_internal:*) are 400 and reach no subscriber", async () => {
    const { url, port } = await startPusherServer();
    const listener = await pusherClient(port);
    const heard: string[] = [];
    (await subscribe(listener, "news")).bind_global((event: string) => heard.push(event));
    for (const name of ["connected", "message:new", "pusher_internal:member_added", "server:shutdown"]) {
      const single = await call(url, "POST", EVENTS, { body: JSON.stringify({ name, channels: ["news"], data: "{}" }) });
      expect(single.status, name).toBe(400);
      expect(single.body.error.code, name).toBe("bad_request");
      const batch = await call(url, "POST", `/apps/${APP.appId}/batch_events`, { body: JSON.stringify({ batch: [{ name: "fine", channel: "news", data: "{}" }, { name, channel: "news", data: "{}" }] }) });
      expect(batch.status, `${name} in a batch`).toBe(400);
    }
    // An allowed name still goes through, and is the only event the subscriber hears.
    expect((await call(url, "POST", EVENTS, { body: JSON.stringify({ name: "flash", channels: ["news"], data: "{}" }) })).status).toBe(200);
    await eventually(() => expect(heard).toContain("flash"));
    expect(heard.filter((event) => !event.startsWith("pusher:"))).toEqual(["flash"]);
  });

  it("channel queries return occupancy, subscription counts and presence users", async () => {
    const { port, backend } = await startPusherServer();
    const alice = await pusherClient(port, { presence: { user_id: "alice" } });
    const bob1 = await pusherClient(port, { presence: { user_id: "bob" } });
    const bob2 = await pusherClient(port, { presence: { user_id: "bob" } });
    for (const client of [alice, bob1, bob2]) await subscribe(client, "presence-visit.7");
    await subscribe(alice, "news");

    const json = async (path: string, params?: Record<string, string>) => (await backend.get({ path, params })).json();
    expect(await json("/channels/presence-visit.7", { info: "user_count,subscription_count" })).toEqual({ occupied: true, user_count: 2, subscription_count: 3 });
    expect(await json("/channels/news", { info: "subscription_count" })).toEqual({ occupied: true, subscription_count: 1 });
    expect(await json("/channels/empty")).toEqual({ occupied: false });
    expect(await json("/channels")).toEqual({ channels: { "presence-visit.7": {}, news: {} } });
    expect(await json("/channels", { filter_by_prefix: "presence-", info: "user_count" })).toEqual({ channels: { "presence-visit.7": { user_count: 2 } } });
    const users = (await json("/channels/presence-visit.7/users")) as { users: { id: string }[] };
    expect(users.users.map((u) => u.id).sort()).toEqual(["alice", "bob"]);
    const triggered = await (await backend.trigger("presence-visit.7", "x", {}, { info: "user_count,subscription_count" })).json();
    expect(triggered).toEqual({ channels: { "presence-visit.7": { user_count: 2, subscription_count: 3 } } });

    bob1.disconnect();
    bob2.disconnect();
    await sleep(200);
    expect(await json("/channels/presence-visit.7", { info: "user_count,subscription_count" })).toEqual({ occupied: true, user_count: 1, subscription_count: 1 });
  });

  it("terminate_connections closes the user's signed-in connections with 4009", async () => {
    const { port, backend } = await startPusherServer();
    const raw = await rawPusher(port);
    const { data } = await raw.next("pusher:connection_established");
    const signed = backend.authenticateUser(data.socket_id, { id: "bob" });
    raw.send({ event: "pusher:signin", data: signed });
    await raw.next("pusher:signin_success");
    const bystander = await rawPusher(port);
    await backend.terminateUserConnections("bob");
    expect((await raw.closed).code).toBe(4009);
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
  });
});

describe("Pusher webhooks", () => {
  it("channel_occupied, member_added, client_event, member_removed and channel_vacated arrive signed for the app", async () => {
    const hooks = await webhookReceiver();
    const { port, backend } = await startPusherServer({ env: { PUSHER_WEBHOOK_URL: hooks.url } });
    const alice = await pusherClient(port, { presence: { user_id: "alice" } });
    const bob = await pusherClient(port, { presence: { user_id: "bob" } });
    const aliceChannel = await subscribe(alice, "presence-visit.7");
    await subscribe(bob, "presence-visit.7");
    aliceChannel.trigger("client-note", { text: "hi" });
    await sleep(100);
    bob.disconnect();
    alice.disconnect();
    const names = () => hooks.received.flatMap((hook) => hook.body.events.map((event) => `${event.name}:${String(event.user_id ?? "")}`));
    await eventually(() =>
      expect(names()).toEqual(
        expect.arrayContaining(["channel_occupied:", "member_added:alice", "member_added:bob", "client_event:alice", "member_removed:bob", "member_removed:alice", "channel_vacated:"]),
      ),
    );
    expect(names()).toHaveLength(7);
    // As Pusher orders them: the last member leaves, then the channel is vacated.
    const sentAt = (name: string) => hooks.received.find((hook) => hook.body.events.some((e) => `${e.name}:${String(e.user_id ?? "")}` === name))!.body.time_ms;
    expect(sentAt("channel_vacated:")).toBeGreaterThanOrEqual(sentAt("member_removed:alice"));
    for (const hook of hooks.received) {
      expect(hook.headers["x-pusher-key"]).toBe(APP.key);
      expect(backend.webhook({ headers: hook.headers, rawBody: hook.rawBody }).isValid()).toBe(true);
      expect(hook.body.events.every((event) => event.channel === "presence-visit.7")).toBe(true);
    }
    const clientEvent = hooks.received.flatMap((hook) => hook.body.events).find((event) => event.name === "client_event");
    expect(clientEvent).toMatchObject({ event: "client-note", data: JSON.stringify({ text: "hi" }), socket_id: expect.stringMatching(/^\d+\.\d+$/) });
    expect(backendFor(port, "wrong-secret-0123456789").webhook({ headers: hooks.received[0]!.headers, rawBody: hooks.received[0]!.rawBody }).isValid()).toBe(false);
  });
});

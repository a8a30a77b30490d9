import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { connectError, request, startServer } from "./support/server-harness.js";

describe("health, readiness and metrics", () => {
  it("/healthz reports liveness with connection and active-user counts", async () => {
    const { url, connect } = await startServer();
    await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", connections: 3, activeUsers: 2 });
  });

  it("/readyz answers 200 with the database check when the database answers", async () => {
    const { url } = await startServer();
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok" } });
  });

  it("/readyz answers 503 when the database is gone", async () => {
    const { url, server } = await startServer();
    await server.database.close();
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.status).toBe("not_ready");
    expect(body.checks.database).toMatch(/^down/);
  });

  it("/readyz checks Redis when REDIS_URL is set, and reports it down when unreachable", async () => {
    const { url } = await startServer({ env: { REDIS_URL: "redis://127.0.0.1:9" } });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).checks).toMatchObject({ database: "ok", redis: expect.stringMatching(/^down/) });
  });

  it("/metrics exposes connections, events in and out, ack errors and latency in Prometheus text", async () => {
    const { url, connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(alice.socket, "room:join", { room: "topic:news" });
    await request(bob.socket, "room:join", { room: "topic:news" });
    await request(alice.socket, "room:join", { room: "user:bob" });
    await request(alice.socket, "what:ever", {});
    await fetch(`${url}/healthz`);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/switchboard_connections\{[^}]*protocol="socketio"[^}]*\} 2/);
    expect(text).toMatch(/switchboard_events_in_total\{[^}]*event="room:join"[^}]*\} 3/);
    expect(text).toMatch(/switchboard_events_in_total\{[^}]*event="unknown"[^}]*\} 1/);
    expect(text).toMatch(/switchboard_events_out_total\{[^}]*event="room:userJoined"[^}]*\} 1/);
    expect(text).toMatch(/switchboard_ack_errors_total\{[^}]*code="forbidden"[^}]*\} 1/);
    expect(text).toMatch(/switchboard_ack_errors_total\{[^}]*code="bad_request"[^}]*\} 1/);
    expect(text).toMatch(/switchboard_request_duration_seconds_count\{[^}]*event="room:join"[^}]*\} 3/);
    expect(text).toMatch(/switchboard_http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} 1/);
    // Process metrics, the event-loop lag among them (sampled every 100 ms, see metrics.ts).
    expect(text).toMatch(/switchboard_nodejs_eventloop_lag_p99_seconds\{[^}]*\} \d/);
    expect(text).toMatch(/switchboard_process_resident_memory_bytes\{[^}]*\} \d/);
  });

  it("/metrics counts a chat message once per receiving socket, every device of each participant but the sender's", async () => {
    const { url, connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const alicePhone = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const created = (await request(alice.socket, "conversation:create", { type: "direct", participantIds: ["bob"] })) as any;
    const received = Promise.all([alicePhone, bob].map(({ socket }) => new Promise((resolve) => socket.once("message:new", resolve))));
    const sent = (await request(alice.socket, "message:send", { conversationId: created.data.conversation.id, body: "hello", clientMessageId: "m1" })) as any;
    expect(sent.ok).toBe(true);
    await received;
    const text = await (await fetch(`${url}/metrics`)).text();
    // Bob's socket and Alice's phone; not the socket that sent it.
    expect(text).toMatch(/switchboard_events_out_total\{[^}]*event="message:new"[^}]*\} 2\n/);
  });

  it("an unknown route answers 404 in the error format", async () => {
    const { url } = await startServer();
    const res = await fetch(`${url}/v1/nothing-here?token=secret`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as any;
    expect(body).toEqual({ error: { code: "not_found", message: "no route GET /v1/nothing-here" } });
  });
});

describe("origin allowlist", () => {
  const env = { CORS_ORIGINS: "https://app.example.com,https://admin.example.com" };

  it("HTTP from an allowed origin gets CORS headers; from another origin it is refused 403", async () => {
    const { url } = await startServer({ env });
    const allowed = await fetch(`${url}/healthz`, { headers: { origin: "https://app.example.com" } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const refused = await fetch(`${url}/healthz`, { headers: { origin: "https://evil.example" } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { code: "forbidden", message: "origin not allowed" } });
    const noOrigin = await fetch(`${url}/healthz`);
    expect(noOrigin.status).toBe(200);
    // An app backend's request gets no CORS grant, but caches learn the answer depends on Origin.
    expect(noOrigin.headers.get("access-control-allow-origin")).toBeNull();
    expect(noOrigin.headers.get("access-control-allow-credentials")).toBeNull();
    expect(noOrigin.headers.get("vary")).toBe("Origin");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(allowed.headers.get("vary")).toBe("Origin");
  });

  it("a browser preflight from an allowed origin is answered 204 before authentication, offering every method the API routes", async () => {
    const { url } = await startServer({ env: { ...env, API_KEYS: "acme:test-key-0123456789" } });
    const preflight = await fetch(`${url}/v1/conversations/c1`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "DELETE", "access-control-request-headers": "authorization,content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("content-length")).toBe("0");
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    expect(preflight.headers.get("access-control-allow-methods")!.split(",")).toEqual(expect.arrayContaining(["GET", "POST", "PUT", "DELETE"]));
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization,content-type");
    expect(preflight.headers.get("vary")).toBe("Origin, Access-Control-Request-Headers");
    // The request the preflight cleared still meets the route's authentication.
    const publish = await fetch(`${url}/v1/events`, { method: "POST", headers: { origin: "https://app.example.com", "content-type": "application/json" }, body: JSON.stringify({ channel: "tenant:acme", event: "x", data: 1 }) });
    expect(publish.status).toBe(401);
    expect(publish.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  it("a preflight from another origin is refused 403; an OPTIONS request that is no preflight gets 400 with an Origin and 404 without", async () => {
    const { url } = await startServer({ env });
    const refused = await fetch(`${url}/v1/events`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-methods")).toBeNull();
    const notPreflight = await fetch(`${url}/v1/events`, { method: "OPTIONS", headers: { origin: "https://app.example.com" } });
    expect(notPreflight.status).toBe(400);
    const noOrigin = await fetch(`${url}/v1/events`, { method: "OPTIONS" });
    expect(noOrigin.status).toBe(404);
    expect(await noOrigin.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("a WebSocket upgrade from another origin is refused; an allowed origin connects", async () => {
    const { url, token, connect } = await startServer({ env });
    const jwt = await token({ sub: "alice", tenant: "acme" });
    const err = await connectError(url, { auth: { token: jwt }, extraHeaders: { origin: "https://evil.example" } });
    expect(err.message).not.toBe("unauthorized");
    const polling = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "https://evil.example" } });
    expect(polling.status).toBe(403);
    const ok = await connect(jwt, { extraHeaders: { origin: "https://admin.example.com" } });
    expect(ok.connected.userId).toBe("alice");
  });
});

describe("request logging", () => {
  it("a request's log line carries its request id and the HTTP logger's bindings, with token query values redacted", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { url } = await startServer({ logger });
    await fetch(`${url}/healthz?token=secret-value`);
    await fetch(`${url}/healthz`);
    const requestLines = lines.filter((line) => line.msg === "http request");
    expect(requestLines).toHaveLength(2);
    expect(requestLines[0]).toMatchObject({ component: "http", method: "GET", url: "/healthz?token=[redacted]", status: 200, reqId: expect.any(String) });
    expect(requestLines[1]!.reqId).not.toBe(requestLines[0]!.reqId);
    expect(JSON.stringify(lines)).not.toContain("secret-value");
  });
});

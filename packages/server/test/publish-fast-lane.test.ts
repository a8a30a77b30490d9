import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { EventsService } from "../src/core/events/events-service.js";
import { MemoryBroker } from "../src/drivers/memory/memory-broker.js";
import { Metrics } from "../src/metrics.js";
import type { ChannelMessage } from "../src/ports/broker.js";
import { ApiKeyVerifier } from "../src/transports/http/api-key-auth.js";
import { publishFastLane } from "../src/transports/http/publish-fast-lane.js";
import { startServer } from "./support/server-harness.js";

const KEY = "acme-key-0123456789abcdef";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One POST with a raw body, framed by `Content-Length` (the lane's requests)
 * or chunked (which the lane leaves to fastify's route).
 */
function post(url: string, path: string, body: string, options: { chunked?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
    if (!options.chunked) headers["content-length"] = String(Buffer.byteLength(body));
    const req = httpRequest(`${url}${path}`, { method: "POST", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    // Chunked: the body leaves in two chunks, so no Content-Length can be sent.
    if (options.chunked && body.length > 1) {
      req.write(body.slice(0, 1));
      req.end(body.slice(1));
    } else req.end(body);
  });
}

const auth = { authorization: `Bearer ${KEY}` };

/** Requests whose answers both lanes must agree on: status, body, and the headers a client reads. */
const CASES: { name: string; body: string; headers?: Record<string, string> }[] = [
  { name: "a publish", body: JSON.stringify({ channel: "topic:clinic", event: "appointment:created", data: { id: 7 } }), headers: auth },
  { name: "to several channels, repeated", body: JSON.stringify({ channels: ["topic:a", "topic:a", "user:bob"], event: "x", data: null }), headers: auth },
  { name: "no API key", body: JSON.stringify({ channel: "topic:clinic", event: "x", data: {} }) },
  { name: "a wrong API key", body: JSON.stringify({ channel: "topic:clinic", event: "x", data: {} }), headers: { authorization: "Bearer wrong-key-0123456789abcdef" } },
  { name: "broken JSON", body: "{broken json", headers: auth },
  { name: "an empty body", body: "", headers: auth },
  { name: "a __proto__ key", body: '{"channel":"topic:a","event":"x","data":{"__proto__":{"admin":true}}}', headers: auth },
  { name: "a reserved event name", body: JSON.stringify({ channel: "user:alice", event: "message:new", data: {} }), headers: auth },
  { name: "a bad channel", body: JSON.stringify({ channel: "nope", event: "x", data: {} }), headers: auth },
  { name: "data over 64 KiB", body: JSON.stringify({ channel: "topic:a", event: "x", data: "y".repeat(70_000) }), headers: auth },
  { name: "data nested too deep", body: `{"channel":"topic:a","event":"x","data":${"[".repeat(70)}${"]".repeat(70)}}`, headers: auth },
  { name: "a JSON content type with a charset", body: JSON.stringify({ channel: "topic:a", event: "x", data: 1 }), headers: { ...auth, "content-type": "application/json; charset=utf-8" } },
];

describe("POST /v1/events without fastify's pipeline (the publish fast lane)", () => {
  it("answers every publish, good or bad, exactly as the fastify route answers it", async () => {
    const { url } = await startServer({ env: { API_KEYS: `acme:${KEY}` } });
    for (const { name, body, headers } of CASES) {
      const lane = await post(url, "/v1/events", body, { headers });
      const route = await post(url, "/v1/events", body, { headers, chunked: true });
      const seen = (a: Answer) => ({ status: a.status, body: JSON.parse(a.body), type: a.headers["content-type"], vary: a.headers.vary, challenge: a.headers["www-authenticate"] });
      expect(seen(lane), name).toEqual(seen(route));
    }
    // The cases cover both outcomes: a sanity check that the comparison above compared something.
    const statuses = new Set<number>();
    for (const { body, headers } of CASES) statuses.add((await post(url, "/v1/events", body, { headers })).status);
    expect([...statuses].sort()).toEqual([202, 400, 401, 413]);
    // A __proto__ key is valid JSON: the answer names the rule it broke.
    const poisoned = CASES.find((c) => c.name === "a __proto__ key")!;
    for (const chunked of [false, true]) {
      const answer = await post(url, "/v1/events", poisoned.body, { headers: poisoned.headers, chunked });
      expect(JSON.parse(answer.body).error).toEqual({ code: "bad_request", message: expect.stringContaining("__proto__") });
    }
  });

  it("counts its publishes in the HTTP latency histogram under the route's name", async () => {
    const { url } = await startServer({ env: { API_KEYS: `acme:${KEY}` } });
    expect((await post(url, "/v1/events", JSON.stringify({ channel: "topic:a", event: "x", data: 1 }), { headers: auth })).status).toBe(202);
    expect((await post(url, "/v1/events", "{", { headers: auth })).status).toBe(400);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/events",status="202"[^}]*\} 1/);
    expect(metrics).toMatch(/switchboard_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/events",status="400"[^}]*\} 1/);
  });

  describe("takes only a backend's plain publish, and leaves the rest to fastify", () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => close?.());

    async function laneServer(isOpen = () => true) {
      const broker = new MemoryBroker();
      const published: ChannelMessage[] = [];
      broker.subscribe((message) => published.push(message));
      const fastLane = publishFastLane({
        events: new EventsService(broker),
        apiKeys: new ApiKeyVerifier([{ tenantId: "acme", key: KEY }]),
        metrics: new Metrics("test"),
        logger: pino({ level: "silent" }),
        maxPayloadBytes: 1024,
        isOpen,
      });
      const fellThrough: string[] = [];
      const server = createServer((req, res) => {
        if (fastLane(req, res)) return;
        fellThrough.push(`${req.method} ${req.url}`);
        req.resume();
        res.writeHead(299).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      close = () => new Promise((resolve) => server.close(() => resolve()));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, published, fellThrough };
    }

    const publish = JSON.stringify({ channel: "topic:a", event: "x", data: { n: 1 } });

    it("a plain publish is served by the lane and reaches the broker with the key's tenant", async () => {
      const { url, published, fellThrough } = await laneServer();
      const answer = await post(url, "/v1/events", publish, { headers: auth });
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.body)).toEqual({ channels: ["topic:a"], event: "x" });
      expect(published).toEqual([{ tenantId: "acme", channels: ["topic:a"], event: "x", data: { n: 1 } }]);
      expect(fellThrough).toEqual([]);
    });

    it("a refused publish changes nothing", async () => {
      const { url, published } = await laneServer();
      expect((await post(url, "/v1/events", publish, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
      expect((await post(url, "/v1/events", '{"channel":"topic:a"}', { headers: auth })).status).toBe(400);
      expect(published).toEqual([]);
    });

    it("requests with an Origin, a chunked or oversized body, a query, another type or method fall through", async () => {
      const { url, published, fellThrough } = await laneServer();
      const answers = [
        await post(url, "/v1/events", publish, { headers: { ...auth, origin: "https://app.example" } }),
        await post(url, "/v1/events", publish, { headers: auth, chunked: true }),
        await post(url, "/v1/events", JSON.stringify({ channel: "topic:a", event: "x", data: "y".repeat(2000) }), { headers: auth }),
        await post(url, "/v1/events?x=1", publish, { headers: auth }),
        await post(url, "/v1/events", publish, { headers: { ...auth, "content-type": "text/plain" } }),
        await post(url, "/v1/notifications", publish, { headers: auth }),
      ];
      expect(answers.map((a) => a.status)).toEqual([299, 299, 299, 299, 299, 299]);
      expect(fellThrough).toEqual(["POST /v1/events", "POST /v1/events", "POST /v1/events", "POST /v1/events?x=1", "POST /v1/events", "POST /v1/notifications"]);
      expect(published).toEqual([]);
    });

    it("once the server is stopping, publishes fall through to fastify's route", async () => {
      let open = true;
      const { url, fellThrough } = await laneServer(() => open);
      expect((await post(url, "/v1/events", publish, { headers: auth })).status).toBe(202);
      open = false;
      expect((await post(url, "/v1/events", publish, { headers: auth })).status).toBe(299);
      expect(fellThrough).toEqual(["POST /v1/events"]);
    });
  });
});
